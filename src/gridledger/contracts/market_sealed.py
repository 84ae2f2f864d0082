"""Sealed orders in the day-ahead call auction (issue 15 part 3; docs/privacy.md "Sealed bids").

A community takes them when its genesis names ``sealed_reveal_window_seconds``
(`day_ahead_parameters.SealedOrders`, with the day-ahead auction). Timing of a delivery day:

    orders (plain and sealed) → gate → reveal window → clear
                                 ^ gate_s          ^ gate_s + reveal_window_seconds

Methods (namespace ``market``):

``place_sealed_day_ahead_order(side, period, max_energy_wh, price_commitment, price_proof,
energy_commitment, energy_proof, all_or_none=False)``
    Before the day's gate (DAY_AHEAD_GATE_CLOSED at or after it), by the roles
    that may trade on that side. The commitments are 33-byte Pedersen commitments
    C = v·G + r·H in hex (INVALID_PEDERSEN_COMMITMENT if not a point on secp256k1); the
    proofs are range proofs (`gridledger.market.sealed`) bound to the owner, side,
    period and field: the price in [feed_in, cap] of the period's parameters in
    force now, the energy in [1, max_energy_wh] (RANGE_PROOF_RANGE_MISMATCH for a
    proof of another range, INVALID_RANGE_PROOF for one that does not verify).
    Escrow: the non-reveal fee, plus for a buy ``trade_value_micro(max_energy_wh,
    cap)``, whatever the order turns out to be. The order takes the day's next
    sequence and its placing time, exactly as a plain one, and is stored with
    status ``sealed`` (price 0, energy ``max_energy_wh``) beside its commitments.
``reveal_day_ahead_order(order_id, price_micro_per_kwh, price_blinding, energy_wh,
energy_blinding)``
    The owner (NOT_ORDER_OWNER otherwise), in [gate, gate + reveal window)
    (REVEAL_BEFORE_GATE, REVEAL_WINDOW_CLOSED), once (ORDER_NOT_OPEN after), of a
    sealed order (ORDER_NOT_SEALED for a plain one). Both openings must open their
    commitments (OPENING_MISMATCH). The order becomes a plain open order with the
    revealed price and energy; its escrow drops to what a plain order of those
    values holds (the excess and the fee deposit go back), so the clear treats
    it exactly as a plain order.

At the clear (`market_day_ahead.clear_day_ahead`, from gate + reveal window on) an
order still sealed closes ``unrevealed``: its fee goes to the grid account
(``grid``, settlement's counterpart account), the rest of its escrow back to its
owner; money is only moved, never made.

State: ``dayahead_sealed/<day>/<sequence>`` → `StoredSealedOrder`.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.day_ahead_parameters import SealedOrders
from gridledger.contracts.errors import EnergyOutOfRange, NegativeValue, NotHex
from gridledger.contracts.market_day_ahead_state import (
    StoredDayAheadOrder,
    day_ahead_order_id,
    day_book,
    find_day_ahead_order,
    offered_day_ahead,
    open_day_book,
    order_key,
    read_day_ahead_book,
    reveal_closes_s,
    store_new_order,
)
from gridledger.contracts.market_errors import (
    InvalidSide,
    NotOrderOwner,
    OrderNotOpen,
)
from gridledger.contracts.market_sealed_errors import (
    InvalidCommitment,
    InvalidRangeProofArgument,
    OpeningMismatch,
    OrderNotSealed,
    RangeProofRangeMismatch,
    RevealBeforeGate,
    RevealWindowClosed,
    SealedOrdersNotOffered,
)
from gridledger.contracts.market_session import require_trading_role
from gridledger.contracts.market_state import (
    ESCROW,
    MAX_ORDER_ENERGY_WH,
    MAX_PRICE_MICRO_PER_KWH,
    NAMESPACE,
    OrderStatus,
    contract,
)
from gridledger.contracts.parameters import sealed_orders_of
from gridledger.contracts.tokens import move
from gridledger.crypto.privacy import (
    Opening,
    PrivacyError,
    RangeMismatch,
    decode_point,
    decode_scalar,
    verify_opening,
)
from gridledger.crypto.range_proof_cache import verify_range_remembered
from gridledger.ledger import Context, StateReader, key_address
from gridledger.market import proof_context, trade_value_micro

__all__ = [
    "StoredSealedOrder",
    "read_sealed_order",
    "sealed_orders_of_day",
    "sealed_range_proofs",
]


class StoredSealedOrder(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The public part of a sealed order: what the chain shows until the reveal."""

    order_id: str
    price_commitment: bytes
    energy_commitment: bytes
    price_low: int
    price_high: int
    max_energy_wh: int
    fee_micro: int
    """The non-reveal fee escrowed with the order."""
    revealed: bool


def sealed_key(day: int, sequence: int) -> str:
    return f"dayahead_sealed/{day:09d}/{sequence:09d}"


def read_sealed_order(state: StateReader, day: int, sequence: int) -> StoredSealedOrder | None:
    raw = state.get(NAMESPACE, sealed_key(day, sequence))
    return None if raw is None else msgspec.msgpack.decode(raw, type=StoredSealedOrder)


def sealed_orders_of_day(state: StateReader, day: int) -> dict[str, StoredSealedOrder]:
    """The sealed records of ``day`` by order id (revealed or not)."""
    book = read_day_ahead_book(state, day)
    count = 0 if book is None else book.next_sequence
    found = (read_sealed_order(state, day, s) for s in range(count))
    return {o.order_id: o for o in found if o is not None}


def _sealed_rules(context: Context) -> SealedOrders:
    rules = sealed_orders_of(context.overlay)
    if rules is None:
        raise SealedOrdersNotOffered()
    return rules


def _hex(field: str, text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise NotHex(field) from None


def _commitment(field: str, text: str) -> bytes:
    data = _hex(field, text)
    try:
        decode_point(data)
    except PrivacyError as error:
        raise InvalidCommitment(field, str(error)) from None
    return data


def _check_proof(
    field: str, commitment: bytes, text: str, low: int, high: int, context: bytes
) -> None:
    """Verify a range proof from its bytes (decoded once) for [low, high] under ``context``.

    A proof the node's verifier already found valid for the range it claims, with the
    same commitment and context, is only looked up (`crypto.range_proof_cache`); the
    range is still compared with [low, high] here.
    """
    data = _hex(field, text)
    try:
        verify_range_remembered(commitment, data, low, high, context=context)
    except RangeMismatch as error:
        raise RangeProofRangeMismatch(
            field, error.proven_low, error.proven_high, low, high
        ) from None
    except PrivacyError as error:
        raise InvalidRangeProofArgument(field, str(error)) from None


def sealed_range_proofs(
    sender_key: bytes, method: str, args: object
) -> list[tuple[bytes, bytes, bytes]]:
    """(commitment, proof, context) of each range proof a ``market`` call will verify:
    the two of ``place_sealed_day_ahead_order``, for the node's verifier to check ahead.

    Malformed arguments give none: the contract then refuses the call as it always does.
    """
    if method != "place_sealed_day_ahead_order" or not isinstance(args, dict):
        return []
    try:
        owner = key_address(sender_key)
        side, period = str(args["side"]), int(args["period"])
        return [
            (
                bytes.fromhex(str(args[f"{field}_commitment"])),
                bytes.fromhex(str(args[f"{field}_proof"])),
                proof_context(owner, side, period, field),
            )
            for field in ("price", "energy")
        ]
    except (KeyError, ValueError, TypeError):
        return []


class PlaceSealedArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    side: str
    period: int
    max_energy_wh: int
    price_commitment: str
    price_proof: str
    energy_commitment: str
    energy_proof: str
    all_or_none: bool = False


@contract.method(PlaceSealedArgs)
def place_sealed_day_ahead_order(context: Context, args: PlaceSealedArgs) -> None:
    """Place a sealed order (commitments and range proofs) before the day's gate; escrows."""
    if args.side not in ("buy", "sell"):
        raise InvalidSide(args.side)
    if not 2 <= args.max_energy_wh <= MAX_ORDER_ENERGY_WH:
        raise EnergyOutOfRange("max_energy_wh", args.max_energy_wh, 2, MAX_ORDER_ENERGY_WH)
    if args.period < 0:
        raise NegativeValue("period", args.period)
    require_trading_role(context, args.side)
    day_ahead = offered_day_ahead(context, f"period {args.period}")
    rules = _sealed_rules(context)
    parameters, day, book, now_s = open_day_book(context, args.period, day_ahead)
    price_c = _commitment("price_commitment", args.price_commitment)
    energy_c = _commitment("energy_commitment", args.energy_commitment)
    low = parameters.feed_in_price_micro_per_kwh
    high = parameters.cap_price_micro_per_kwh
    owner = context.sender
    _check_proof(
        "price_proof",
        price_c,
        args.price_proof,
        low,
        high,
        proof_context(owner, args.side, args.period, "price"),
    )
    _check_proof(
        "energy_proof",
        energy_c,
        args.energy_proof,
        1,
        args.max_energy_wh,
        proof_context(owner, args.side, args.period, "energy"),
    )
    sequence = book.next_sequence
    order_id = day_ahead_order_id(day, sequence)
    fee = rules.non_reveal_fee_micro
    escrow = fee + (trade_value_micro(args.max_energy_wh, high) if args.side == "buy" else 0)
    move(context, owner, ESCROW, escrow, f"escrow sealed {order_id}")
    store_new_order(
        context,
        day,
        book,
        StoredDayAheadOrder(
            order_id=order_id,
            owner=owner,
            side=args.side,
            energy_wh=args.max_energy_wh,
            price_micro_per_kwh=0,
            period=args.period,
            all_or_none=args.all_or_none,
            order_time_s=now_s,
            sequence=sequence,
            status=OrderStatus.SEALED,
            filled_wh=0,
            escrow_micro=escrow,
            escrow_price_micro_per_kwh=high if args.side == "buy" else 0,
            height=context.height,
            closed_at_s=0,
        ),
    )
    context.write(
        NAMESPACE,
        sealed_key(day, sequence),
        StoredSealedOrder(order_id, price_c, energy_c, low, high, args.max_energy_wh, fee, False),
    )
    context.emit(
        NAMESPACE,
        "day_ahead_sealed_order_placed",
        order_id=order_id,
        owner=owner,
        side=args.side,
        period=args.period,
        max_energy_wh=args.max_energy_wh,
        price_commitment=price_c.hex(),
        energy_commitment=energy_c.hex(),
        escrow_micro=escrow,
    )


class RevealArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    order_id: str
    price_micro_per_kwh: int
    price_blinding: str
    energy_wh: int
    energy_blinding: str


def _opening(field: str, value: int, blinding_hex: str) -> Opening:
    data = _hex(field, blinding_hex)
    try:
        return Opening(value, decode_scalar(data))
    except PrivacyError as error:
        raise InvalidCommitment(field, f"the blinding is not a scalar: {error}") from None


@contract.method(RevealArgs)
def reveal_day_ahead_order(context: Context, args: RevealArgs) -> None:
    """Open a sealed order in its reveal window: it becomes a plain open order."""
    day, sequence, stored = find_day_ahead_order(context.overlay, args.order_id)
    sealed = read_sealed_order(context.overlay, day, sequence)
    if sealed is None:
        raise OrderNotSealed(args.order_id)
    if stored.owner != context.sender:
        raise NotOrderOwner(args.order_id, stored.owner, context.sender)
    day_ahead = offered_day_ahead(context, f"order {args.order_id}")
    rules = _sealed_rules(context)
    book = day_book(context, day, day_ahead)
    now_s = context.timestamp_ms // 1000
    if now_s < book.gate_s:
        raise RevealBeforeGate(args.order_id, book.gate_s, now_s)
    closes_s = reveal_closes_s(book.gate_s, rules)
    if now_s >= closes_s:
        raise RevealWindowClosed(args.order_id, closes_s, now_s)
    if stored.status != OrderStatus.SEALED:  # revealed already, or cancelled before the gate
        raise OrderNotOpen(args.order_id, stored.status)
    if not 0 <= args.price_micro_per_kwh <= MAX_PRICE_MICRO_PER_KWH:
        raise OpeningMismatch(args.order_id, "price", args.price_micro_per_kwh)
    if not 0 <= args.energy_wh <= MAX_ORDER_ENERGY_WH:
        raise OpeningMismatch(args.order_id, "energy", args.energy_wh)
    for field, commitment, value, blinding in (
        ("price", sealed.price_commitment, args.price_micro_per_kwh, args.price_blinding),
        ("energy", sealed.energy_commitment, args.energy_wh, args.energy_blinding),
    ):
        try:
            verify_opening(commitment, _opening(f"{field}_blinding", value, blinding))
        except PrivacyError:
            raise OpeningMismatch(args.order_id, field, value) from None
    # the proofs verified at placement make these hold; kept as a last guard
    if not (sealed.price_low <= args.price_micro_per_kwh <= sealed.price_high) or not (
        1 <= args.energy_wh <= sealed.max_energy_wh
    ):  # pragma: no cover - binding of the commitment and soundness of the proofs
        raise OpeningMismatch(args.order_id, "price or energy", args.price_micro_per_kwh)
    needed = 0
    escrow_price = 0
    if stored.side == "buy":
        escrow_price = min(args.price_micro_per_kwh, sealed.price_high)
        needed = trade_value_micro(args.energy_wh, escrow_price)
    move(context, ESCROW, stored.owner, stored.escrow_micro - needed, f"reveal {args.order_id}")
    context.write(
        NAMESPACE,
        order_key(day, sequence),
        msgspec.structs.replace(
            stored,
            energy_wh=args.energy_wh,
            price_micro_per_kwh=args.price_micro_per_kwh,
            status=OrderStatus.OPEN,
            escrow_micro=needed,
            escrow_price_micro_per_kwh=escrow_price,
        ),
    )
    context.write(
        NAMESPACE, sealed_key(day, sequence), msgspec.structs.replace(sealed, revealed=True)
    )
    context.emit(
        NAMESPACE,
        "day_ahead_order_revealed",
        order_id=args.order_id,
        owner=stored.owner,
        side=stored.side,
        energy_wh=args.energy_wh,
        price_micro_per_kwh=args.price_micro_per_kwh,
        period=stored.period,
        escrow_micro=needed,
    )
