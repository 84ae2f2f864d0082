"""The bilateral path of seed 001 §4.1, as methods of the market contract.

Seed 001's workflow is PublishInfo → MakeOffer → GetOffers → negotiation off
chain → AllowTransaction → MakeTransaction. Here:

- *PublishInfo* is the membership application (`membership.apply`);
- *MakeOffer* is ``publish_offer(energy_wh, price_micro_per_kwh, period,
  production_cost_micro_per_kwh=0, expiry_s=0)`` by a seller in the period's
  negotiation window; the price must lie between the seller's production cost
  (and the feed-in price) and the grid price (and the cap);
- *GetOffers* is a query (`offers_for_period`);
- *AllowTransaction* is ``agree(offer_id, agreement_id, energy_wh,
  price_micro_per_kwh, seller_signature)``: an agreement signed by BOTH
  parties in one transaction. The buyer sends it (its transaction signature is
  its consent) carrying the seller's Ed25519 signature, made with the seller's
  member key, over `agreement_message` (chain id, offer id, agreement id, buyer,
  energy, price). The negotiated price may differ from the published one but
  obeys the same bounds. An agreement id can be used once per offer, so the
  seller's signature cannot be replayed. The buyer's cost,
  ``trade_value_micro(energy_wh, price)``, is escrowed and the agreement is
  recorded as a trade of kind ``bilateral``;
- *MakeTransaction* is settlement: the agreement is paid at metered delivery
  exactly like a trade from the book.

``withdraw_offer(offer_id)`` lets the seller take back what is not yet agreed.

Anonymous offers (seed 001 §4.2, issue 15): ``publish_offer_anonymously`` takes the
same terms plus a ring of sellers' registered keys and an LSAG
(`privacy_rings`), sent from a throwaway key: the offer is recorded with an empty
seller and its key image, scoped to ``market/offers/<period>`` (one anonymous
offer per member per period). The seller names itself only to a buyer it agrees
with: ``agree`` then carries ``seller`` and ``seller_proof``, a proof that the
seller's registered key made the offer's key image (`prove_image_owner`, over the
agreement message, so it cannot be reused for another agreement), beside the
seller's Ed25519 signature. The trade names the seller, as every trade does. An
anonymous offer is withdrawn with ``withdraw_offer_anonymously``, ring-signed in
the offer's event: only its author's signature carries the offer's key image
(LSAG's linkability, used here to recognise the author without naming it).

Windows (seed 001 §4.1: "In that time window of 5 min, agents cannot continue
their negotiations. Then, after 55 min, the agents will only sign the
agreements"). Each delivery period is traded in one window that ends at its
gate closure (`market_parameters.bilateral_window`, lengths from the community's
`TradingWindows`): offers are published in ``[opens_s, commit_opens_s)``, the
negotiation window (``negotiation_seconds``, 55 minutes by default), and
agreements are signed in ``[commit_opens_s, closes_s)``, the commit window
(``commit_seconds``, 5 minutes), ``closes_s`` being the gate closure. Both are
enforced from the block timestamp, and each way to miss them has its own
refusal: `NegotiationNotOpen`, `NegotiationClosed`, `CommitWindowNotOpen`,
`CommitWindowClosed`. The negotiation itself happens off chain, in between
(`gridledger.market.negotiation`).
"""

from __future__ import annotations

import msgspec

from gridledger.contracts import privacy, privacy_rings
from gridledger.contracts.errors import (
    EnergyOutOfRange,
    MemberNotActive,
    NegativeValue,
    NotHex,
    PriceOutOfRange,
    TextLengthOutOfRange,
)
from gridledger.contracts.market_errors import (
    AgreementExists,
    CommitWindowClosed,
    CommitWindowNotOpen,
    ExpiryNotInFuture,
    InvalidAgreementSignature,
    NegotiationClosed,
    NegotiationNotOpen,
    NotOfferOwner,
    OfferNotOpen,
    OwnOffer,
    UnknownOffer,
)
from gridledger.contracts.market_parameters import BilateralWindow, bilateral_window
from gridledger.contracts.market_session import Session, within_horizon
from gridledger.contracts.market_state import (
    MAX_ORDER_ENERGY_WH,
    NAMESPACE,
    SELLING_ROLES,
    TRADING_ROLES,
    Offer,
    Trade,
    agreement_key,
    contract,
    offer_key,
    read_offer,
    read_period,
)
from gridledger.contracts.membership import Member, read_member, require_role
from gridledger.contracts.parameters import windows_for
from gridledger.contracts.privacy_errors import InvalidSellerProof
from gridledger.contracts.registry import Access, Submission
from gridledger.crypto import is_valid_signature
from gridledger.crypto.privacy import PrivacyError, verify_image_owner
from gridledger.ledger import Context, StateReader, decode, encode
from gridledger.market import trade_value_micro

AGREEMENT_DOMAIN = b"gridledger/bilateral-agreement/v1\x00"


def agreement_message(
    chain_id: str,
    offer_id: str,
    agreement_id: str,
    buyer: str,
    energy_wh: int,
    price_micro_per_kwh: int,
) -> bytes:
    """The bytes a seller signs to agree to sell to `buyer` from its offer."""
    return AGREEMENT_DOMAIN + encode(
        [chain_id, offer_id, agreement_id, buyer, energy_wh, price_micro_per_kwh]
    )


def offers_for_period(state: StateReader, period: int) -> list[Offer]:
    """Every offer published for `period`, in publication order (seed 001 GetOffers)."""
    book = read_period(state, period)
    offers: list[Offer] = []
    for index in range(0 if book is None else book.offer_count):
        offer = read_offer(state, f"{period}-o{index}")
        if offer is not None:
            offers.append(offer)
    return offers


def _price_range(session: Session, production_cost: int) -> tuple[int, int]:
    parameters = session.parameters
    low = max(parameters.feed_in_price_micro_per_kwh, production_cost)
    high = min(parameters.cap_price_micro_per_kwh, parameters.grid_price_micro_per_kwh)
    return low, high


def _check_price(session: Session, price: int, production_cost: int) -> None:
    low, high = _price_range(session, production_cost)
    if not low <= price <= high:
        # low: the production cost or the feed-in price; high: the grid price or the cap
        raise PriceOutOfRange(price, low, high)


def window_of(session: Session) -> BilateralWindow:
    """The negotiation and commit windows of the session's period."""
    windows = windows_for(session.context.overlay, session.period)
    return bilateral_window(session.parameters, windows, session.period)


def require_negotiation_open(session: Session) -> None:
    """Offers are published only in the period's negotiation window."""
    window = window_of(session)
    if session.now_s < window.opens_s:
        raise NegotiationNotOpen(session.period, window.opens_s, session.now_s)
    if session.now_s >= window.commit_opens_s:
        raise NegotiationClosed(session.period, window.commit_opens_s, session.now_s)


def require_commit_open(session: Session) -> None:
    """Agreements are signed only in the period's commit window."""
    window = window_of(session)
    if session.now_s < window.commit_opens_s:
        raise CommitWindowNotOpen(session.period, window.commit_opens_s, session.now_s)
    if session.now_s >= window.closes_s:
        raise CommitWindowClosed(session.period, window.closes_s, session.now_s)


class PublishOfferArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    production_cost_micro_per_kwh: int = 0
    expiry_s: int = 0
    """0 = the period's gate closure."""


@contract.method(PublishOfferArgs)
def publish_offer(context: Context, args: PublishOfferArgs) -> None:
    """A seller offers energy for a period at a price (seed 001 MakeOffer)."""
    require_role(context, SELLING_ROLES, "publish offers")
    _publish(context, args, context.sender)


def _publish(context: Context, args: PublishOfferArgs, seller: str) -> str:
    if not 0 < args.energy_wh <= MAX_ORDER_ENERGY_WH:
        raise EnergyOutOfRange("energy_wh", args.energy_wh, 1, MAX_ORDER_ENERGY_WH)
    if args.production_cost_micro_per_kwh < 0:
        raise NegativeValue("production_cost_micro_per_kwh", args.production_cost_micro_per_kwh)
    session = Session(context, args.period)
    session.require_before_gate("offers")
    within_horizon(session, args.period)
    require_negotiation_open(session)
    _check_price(session, args.price_micro_per_kwh, args.production_cost_micro_per_kwh)
    expiry_s = args.expiry_s or session.gate_closure_s
    if expiry_s <= session.now_s:
        raise ExpiryNotInFuture(expiry_s, session.now_s)
    offer_id = f"{args.period}-o{session.offer_count}"
    session.offer_count += 1
    offer = Offer(
        offer_id,
        seller,
        args.period,
        args.energy_wh,
        args.energy_wh,
        args.price_micro_per_kwh,
        args.production_cost_micro_per_kwh,
        expiry_s,
        "open",
        context.height,
    )
    context.write(NAMESPACE, offer_key(offer_id), offer)
    session.save()
    context.emit(
        NAMESPACE,
        "offer_published",
        offer_id=offer_id,
        seller=seller,
        energy_wh=args.energy_wh,
        price_micro_per_kwh=args.price_micro_per_kwh,
        period=args.period,
    )
    return offer_id


class AnonymousOfferArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    ring: list[str]
    """Hex of the ring's keys: active sellers' registered spend keys."""
    ring_signature: str
    """Hex of the LSAG over `privacy_rings.ring_message`, scoped to ``market/offers/<period>``."""
    production_cost_micro_per_kwh: int = 0
    expiry_s: int = 0


def offers_event(period: int) -> str:
    """The event an anonymous offer's key image is scoped to: one per member per period."""
    return f"market/offers/{period}"


def _seller_rule(member: Member | None) -> str:
    if member is None:
        return "not a member"
    if member.status != "active":
        return member.status
    return "" if member.role in SELLING_ROLES else f"role {member.role} does not sell"


def _check_anonymous_offer(
    state: StateReader, sender_key: bytes, args: AnonymousOfferArgs
) -> bytes:
    fields = msgspec.structs.asdict(args)
    message = privacy_rings.ring_message(
        sender_key, (NAMESPACE, "publish_offer_anonymously"), fields
    )
    return privacy_rings.check_ring_call(
        state, message, fields, offers_event(args.period), _seller_rule
    )


def admit_anonymous_offer(submission: Submission) -> None:
    """Admission of an anonymous offer: the ring signature, not the sender, says who may."""
    args = privacy_rings.convert_call(
        NAMESPACE, "publish_offer_anonymously", submission.args, AnonymousOfferArgs
    )
    _check_anonymous_offer(submission.state, submission.sender_key, args)


@contract.method(AnonymousOfferArgs, access=Access.ANYONE, admit=admit_anonymous_offer)
def publish_offer_anonymously(context: Context, args: AnonymousOfferArgs) -> None:
    """An active seller offers energy without naming itself (ring-signed; once per period)."""
    image = _check_anonymous_offer(context.overlay, context.sender_key, args)
    terms = PublishOfferArgs(
        args.energy_wh,
        args.price_micro_per_kwh,
        args.period,
        args.production_cost_micro_per_kwh,
        args.expiry_s,
    )
    offer_id = _publish(context, terms, "")
    privacy_rings.record_image(context, offers_event(args.period), image)
    context.write(NAMESPACE, anonymous_offer_key(offer_id), image)


class AnonymousWithdrawArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    offer_id: str
    ring: list[str]
    ring_signature: str
    """An LSAG in the offer's event: its key image must be the offer's."""


def _check_anonymous_withdrawal(
    state: StateReader, sender_key: bytes, args: AnonymousWithdrawArgs
) -> Offer:
    offer = read_offer(state, args.offer_id)
    raw_image = state.get(NAMESPACE, anonymous_offer_key(args.offer_id))
    if offer is None or raw_image is None:
        raise UnknownOffer(args.offer_id)
    fields = msgspec.structs.asdict(args)
    message = privacy_rings.ring_message(
        sender_key, (NAMESPACE, "withdraw_offer_anonymously"), fields
    )
    event = offers_event(offer.period)
    image = privacy_rings.check_ring_call(state, message, fields, event, _seller_rule, fresh=False)
    if image != decode(raw_image, bytes):
        raise NotOfferOwner(offer.offer_id, "its anonymous author", f"ring:{image.hex()}")
    if offer.status != "open":
        raise OfferNotOpen(offer.offer_id, offer.status, offer.expiry_s)
    return offer


def admit_anonymous_withdrawal(submission: Submission) -> None:
    """Admission of an anonymous withdrawal: the author's key image, not the sender."""
    args = privacy_rings.convert_call(
        NAMESPACE, "withdraw_offer_anonymously", submission.args, AnonymousWithdrawArgs
    )
    _check_anonymous_withdrawal(submission.state, submission.sender_key, args)


@contract.method(AnonymousWithdrawArgs, access=Access.ANYONE, admit=admit_anonymous_withdrawal)
def withdraw_offer_anonymously(context: Context, args: AnonymousWithdrawArgs) -> None:
    """The author of an anonymous offer withdraws it, ring-signed, still unnamed."""
    offer = _check_anonymous_withdrawal(context.overlay, context.sender_key, args)
    context.write(
        NAMESPACE, offer_key(offer.offer_id), msgspec.structs.replace(offer, status="withdrawn")
    )
    context.emit(NAMESPACE, "offer_withdrawn", offer_id=offer.offer_id)


def anonymous_offer_key(offer_id: str) -> str:
    return f"anonymous_offer/{offer_id}"


def _reveal_seller(context: Context, offer: Offer, args: AgreeArgs, message: bytes) -> str:
    """The seller of an anonymous offer, proven by `args.seller_proof` (see the module)."""
    image = context.read(NAMESPACE, anonymous_offer_key(offer.offer_id), bytes)
    if image is None:  # an offer with no seller and no key image is never written
        raise InvalidSellerProof(offer.offer_id, args.seller, "the offer has no key image")
    keys = privacy.keys_of(context.overlay, args.seller)
    if keys is None:
        raise InvalidSellerProof(offer.offer_id, args.seller, "no privacy keys registered")
    try:
        proof = bytes.fromhex(args.seller_proof)
    except ValueError as error:
        raise NotHex("seller_proof") from error
    try:
        proven = verify_image_owner(
            message, keys.spend_public_key, proof, offers_event(offer.period).encode()
        )
    except PrivacyError as error:
        raise InvalidSellerProof(offer.offer_id, args.seller, str(error)) from error
    if proven != image:
        raise InvalidSellerProof(offer.offer_id, args.seller, "its key made another key image")
    return args.seller


class WithdrawOfferArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    offer_id: str


@contract.method(WithdrawOfferArgs)
def withdraw_offer(context: Context, args: WithdrawOfferArgs) -> None:
    """The seller withdraws what is left of its offer."""
    offer = read_offer(context.overlay, args.offer_id)
    if offer is None:
        raise UnknownOffer(args.offer_id)
    if offer.seller != context.sender:
        raise NotOfferOwner(args.offer_id, offer.seller, context.sender)
    if offer.status != "open":
        raise OfferNotOpen(args.offer_id, offer.status, offer.expiry_s)
    context.write(
        NAMESPACE, offer_key(offer.offer_id), msgspec.structs.replace(offer, status="withdrawn")
    )
    context.emit(NAMESPACE, "offer_withdrawn", offer_id=args.offer_id)


class AgreeArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    offer_id: str
    agreement_id: str
    """Chosen by the parties; unique per offer (1 to 64 characters)."""
    energy_wh: int
    price_micro_per_kwh: int
    seller_signature: str
    """Hex of the seller's Ed25519 signature over `agreement_message`."""
    seller: str = ""
    """For an anonymous offer: the seller's address, which it reveals to this buyer."""
    seller_proof: str = ""
    """For an anonymous offer: hex of `prove_image_owner` over `agreement_message`."""


@contract.method(AgreeArgs)
def agree(context: Context, args: AgreeArgs) -> None:
    """The buyer records an agreement the seller signed; the buyer's cost is escrowed."""
    require_role(context, TRADING_ROLES, "buy energy")
    if not 0 < len(args.agreement_id) <= 64:
        raise TextLengthOutOfRange("agreement_id", len(args.agreement_id), 1, 64)
    offer = read_offer(context.overlay, args.offer_id)
    if offer is None:
        raise UnknownOffer(args.offer_id)
    message = agreement_message(
        context.chain_id,
        offer.offer_id,
        args.agreement_id,
        context.sender,
        args.energy_wh,
        args.price_micro_per_kwh,
    )
    seller_address = offer.seller or _reveal_seller(context, offer, args, message)
    if seller_address == context.sender:
        raise OwnOffer(offer.offer_id, seller_address)
    if context.get(NAMESPACE, agreement_key(offer.offer_id, args.agreement_id)) is not None:
        raise AgreementExists(offer.offer_id, args.agreement_id)
    session = Session(context, offer.period)
    require_commit_open(session)
    if offer.status != "open" or offer.expiry_s <= session.now_s:
        status = offer.status if offer.status != "open" else "expired"
        raise OfferNotOpen(args.offer_id, status, offer.expiry_s)
    if not 0 < args.energy_wh <= offer.remaining_wh:  # at most what is left of the offer
        raise EnergyOutOfRange("energy_wh", args.energy_wh, 1, offer.remaining_wh)
    _check_price(session, args.price_micro_per_kwh, offer.production_cost_micro_per_kwh)
    seller = read_member(context.overlay, seller_address)
    if seller is None or seller.status != "active":
        raise MemberNotActive(seller_address, "unknown" if seller is None else seller.status)
    try:
        signature = bytes.fromhex(args.seller_signature)
    except ValueError as error:
        raise NotHex("seller_signature") from error
    if not is_valid_signature(seller.public_key, message, signature):
        raise InvalidAgreementSignature(offer.offer_id, seller_address)
    session.expire(session.now_s)
    value = trade_value_micro(args.energy_wh, args.price_micro_per_kwh)
    session.pay_in(context.sender, value, f"escrow agreement {args.agreement_id}")
    trade = session.append_trade(
        Trade(
            trade_id="",
            period=offer.period,
            kind="bilateral",
            buy_order_id=f"agreement:{args.agreement_id}",
            sell_order_id=offer.offer_id,
            buyer=context.sender,
            seller=seller_address,
            energy_wh=args.energy_wh,
            price_micro_per_kwh=args.price_micro_per_kwh,
            value_micro=0,
            matched_at_s=session.now_s,
            height=0,
            mechanism="bilateral",
            price_rule="agreed",
            bid_price_micro_per_kwh=args.price_micro_per_kwh,
            ask_price_micro_per_kwh=offer.price_micro_per_kwh,
            buy_order_time_s=session.now_s,
            sell_order_time_s=None,
            buy_sequence=None,
            sell_sequence=None,
            clamped=False,
        )
    )
    remaining = offer.remaining_wh - args.energy_wh
    context.write(
        NAMESPACE,
        offer_key(offer.offer_id),
        msgspec.structs.replace(
            offer, remaining_wh=remaining, status="open" if remaining else "taken"
        ),
    )
    context.write(NAMESPACE, agreement_key(offer.offer_id, args.agreement_id), trade.trade_id)
    session.save()
