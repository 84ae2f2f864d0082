"""The certificates contract: granular certificates of origin, one per producer and period.

Users of energy communities now expect to know where each kWh came from, hour
by hour (Energy Web Origin; EnergyTag's Granular Certificate Scheme Standard),
and seed 002 §7 names energy certification among what such systems lack. A
community switches certificates on in genesis (``parameters.certificates.enabled``);
without it nothing here runs and chains keep their bytes.

Issue. Settling a period (`settlement.settle`) certifies the energy each member
delivered: its metered export of the period (``Statement.delivered_wh``), once,
as one certificate named by (period, producer) with the producer's source
technology from its registration (``generation_type``; ``storage`` for a
battery; ``unspecified`` otherwise). A certificate is issued at most once per
(period, producer), for at most what the meter recorded, so no Wh is ever
certified twice (`AlreadyCertified` guards the rule; a period settles once).

Traded energy carries its certificate to the buyer. The Wh a producer delivered
to its buyers (``sold_delivered_wh``) are handed out over its trades of the
period in trade order, each trade's buyer receiving up to the trade's energy;
Wh sold to the grid's standing bid and surplus stay with the producer, who may
transfer them (an unbundled certificate). Holders transfer certificates to
active members and retire them with a claim naming a beneficiary and a purpose;
a retired Wh is held by nobody and can never move again.

Every certificate's Wh are always all accounted for: the Wh its holders hold plus
the Wh retired from it equal the Wh it was issued for.

State (namespace ``certificates``):

- ``enabled`` → true, written in genesis when certificates are on
- ``issued/<period>/<producer>`` → `Certificate`
- ``holding/<holder>/<period>/<producer>`` → int, Wh held (absent means zero)
- ``claim/<number>`` → `Claim`; ``claims`` → int, the number of claims so far
- ``totals`` → `CertificateTotals`
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from gridledger.contracts.certificates_errors import (
    AlreadyCertified,
    CertificatesDisabled,
    CertificateShort,
    UnknownCertificate,
)
from gridledger.contracts.errors import EnergyOutOfRange, MemberNotActive, TextLengthOutOfRange
from gridledger.contracts.membership import read_member
from gridledger.contracts.registry import Contract
from gridledger.contracts.settlement_statements import Statement
from gridledger.contracts.tokens import SelfTransfer
from gridledger.ledger import Context, Genesis, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER

NAMESPACE = "certificates"
contract = Contract(NAMESPACE)
MAX_CLAIM_TEXT = 200
"""Longest beneficiary or purpose of a claim, in characters."""


class Certificate(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The energy one producer delivered in one period (Wh), certified at settlement."""

    period: int
    producer: str
    technology: str
    energy_wh: int
    height: int
    """The block of the settlement that issued it."""


class Claim(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Wh of a certificate retired by `holder` for a `beneficiary` and a `purpose`."""

    number: int
    holder: str
    period: int
    producer: str
    technology: str
    energy_wh: int
    beneficiary: str
    purpose: str
    height: int
    timestamp_ms: int


class CertificateTotals(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Every Wh certified so far, and how much of it moved or was retired (Wh)."""

    certified_wh: int = 0
    to_buyers_wh: int = 0
    """Handed to buyers with their trades at settlement."""
    transferred_wh: int = 0
    """Moved by holders (`transfer`)."""
    retired_wh: int = 0


def issued_key(period: int, producer: str) -> str:
    return f"issued/{period:012d}/{producer}"


def holding_key(holder: str, period: int, producer: str) -> str:
    return f"holding/{holder}/{period:012d}/{producer}"


def claim_key(number: int) -> str:
    return f"claim/{number:012d}"


def enabled(state: StateReader) -> bool:
    return state.get(NAMESPACE, "enabled") is not None


def read_certificate(state: StateReader, period: int, producer: str) -> Certificate | None:
    raw = state.get(NAMESPACE, issued_key(period, producer))
    return None if raw is None else decode(raw, Certificate)


def held_wh(state: StateReader, holder: str, period: int, producer: str) -> int:
    raw = state.get(NAMESPACE, holding_key(holder, period, producer))
    return 0 if raw is None else decode(raw, int)


def read_claim(state: StateReader, number: int) -> Claim | None:
    raw = state.get(NAMESPACE, claim_key(number))
    return None if raw is None else decode(raw, Claim)


def claim_count(state: StateReader) -> int:
    raw = state.get(NAMESPACE, "claims")
    return 0 if raw is None else decode(raw, int)


def totals(state: StateReader) -> CertificateTotals:
    raw = state.get(NAMESPACE, "totals")
    return CertificateTotals() if raw is None else decode(raw, CertificateTotals)


def technology_of(state: StateReader, producer: str) -> str:
    """The source technology from the producer's registration (``generation_type``)."""
    member = read_member(state, producer)
    if member is None:
        return "unspecified"
    technology = member.registration.get("generation_type")
    if isinstance(technology, str) and technology:
        return technology
    return "storage" if member.role == "storage" else "unspecified"


def _add_holding(context: Context, holder: str, period: int, producer: str, energy_wh: int) -> None:
    held = held_wh(context.overlay, holder, period, producer) + energy_wh
    key = holding_key(holder, period, producer)
    if held:
        context.write(NAMESPACE, key, held)
    else:
        context.delete(NAMESPACE, key)


def _add_totals(context: Context, **added: int) -> None:
    current = msgspec.structs.asdict(totals(context.overlay))
    for name, amount in added.items():
        current[name] += amount
    context.write(NAMESPACE, "totals", CertificateTotals(**current))


@contract.genesis
def write_genesis(context: Context, genesis: Genesis) -> None:
    if genesis.parameters.get(NAMESPACE, {}).get("enabled", False):
        context.write(NAMESPACE, "enabled", True)


# -- issue at settlement -----------------------------------------------------------------


class Sale(msgspec.Struct, frozen=True):
    """One trade as certificates see it: who sold to whom, how much (Wh)."""

    seller: str
    buyer: str
    energy_wh: int


def certify_period(
    context: Context,
    period: int,
    statements: Sequence[Statement],
    sales: Sequence[Sale],
    members: frozenset[str],
) -> None:
    """Issue the period's certificates and hand the delivered Wh to the buyers.

    `statements` are the period's final statements; `sales` its trades in trade
    order; `members` the buyers who may receive certificates (not the standing
    offers' pseudo-owners). A no-op unless certificates are enabled.
    """
    if not enabled(context.overlay):
        return
    certified = to_buyers = 0
    for statement in statements:
        producer, energy_wh = statement.member, statement.delivered_wh
        if energy_wh <= 0:
            continue
        if read_certificate(context.overlay, period, producer) is not None:
            raise AlreadyCertified(period, producer)
        technology = technology_of(context.overlay, producer)
        context.write(
            NAMESPACE,
            issued_key(period, producer),
            Certificate(period, producer, technology, energy_wh, context.height),
        )
        context.emit(
            NAMESPACE,
            "certified",
            period=period,
            producer=producer,
            technology=technology,
            energy_wh=energy_wh,
        )
        certified += energy_wh
        left = min(statement.sold_delivered_wh, energy_wh)
        kept = energy_wh
        for sale in sales:
            if left == 0:
                break
            if sale.seller != producer:
                continue
            share = min(left, sale.energy_wh)
            left -= share
            if sale.buyer in members and sale.buyer != producer:
                _add_holding(context, sale.buyer, period, producer, share)
                kept -= share
                to_buyers += share
        _add_holding(context, producer, period, producer, kept)
    if certified:
        _add_totals(context, certified_wh=certified, to_buyers_wh=to_buyers)


# -- holders' methods --------------------------------------------------------------------


def _take(context: Context, period: int, producer: str, energy_wh: int, action: str) -> Certificate:
    """Check and take `energy_wh` of a certificate off the sender's holding."""
    if not enabled(context.overlay):
        raise CertificatesDisabled(action)
    if not 0 < energy_wh <= MAX_INTEGER:
        raise EnergyOutOfRange("energy_wh", energy_wh, 1, MAX_INTEGER)
    certificate = read_certificate(context.overlay, period, producer) if period >= 0 else None
    if certificate is None:
        raise UnknownCertificate(period, producer)
    held = held_wh(context.overlay, context.sender, period, producer)
    if held < energy_wh:
        raise CertificateShort(context.sender, period, producer, held, energy_wh)
    _add_holding(context, context.sender, period, producer, -energy_wh)
    return certificate


class TransferArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    period: int
    producer: str
    energy_wh: int


@contract.method(TransferArgs)
def transfer(context: Context, args: TransferArgs) -> None:
    """Give `energy_wh` of a certificate the sender holds to another active member."""
    recipient = read_member(context.overlay, args.to)
    if recipient is None or recipient.status != "active":
        raise MemberNotActive(args.to, "unknown" if recipient is None else recipient.status)
    if args.to == context.sender:
        raise SelfTransfer(context.sender)
    _take(context, args.period, args.producer, args.energy_wh, "transfer a certificate")
    _add_holding(context, args.to, args.period, args.producer, args.energy_wh)
    _add_totals(context, transferred_wh=args.energy_wh)
    context.emit(
        NAMESPACE,
        "transferred",
        source=context.sender,
        target=args.to,
        period=args.period,
        producer=args.producer,
        energy_wh=args.energy_wh,
    )


class RetireArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int
    producer: str
    energy_wh: int
    beneficiary: str
    """Who the claim is made for (a member's name or address, a household, a company)."""
    purpose: str
    """What it is claimed for (e.g. ``"household consumption 2026"``)."""


@contract.method(RetireArgs)
def retire(context: Context, args: RetireArgs) -> None:
    """Retire `energy_wh` of a certificate the sender holds, with a recorded claim."""
    for field, text in (("beneficiary", args.beneficiary), ("purpose", args.purpose)):
        if not 0 < len(text) <= MAX_CLAIM_TEXT:
            raise TextLengthOutOfRange(field, len(text), 1, MAX_CLAIM_TEXT)
    certificate = _take(context, args.period, args.producer, args.energy_wh, "retire a certificate")
    number = claim_count(context.overlay)
    claim = Claim(
        number,
        context.sender,
        args.period,
        args.producer,
        certificate.technology,
        args.energy_wh,
        args.beneficiary,
        args.purpose,
        context.height,
        context.timestamp_ms,
    )
    context.write(NAMESPACE, claim_key(number), claim)
    context.write(NAMESPACE, "claims", number + 1)
    _add_totals(context, retired_wh=args.energy_wh)
    context.emit(
        NAMESPACE,
        "retired",
        claim=number,
        holder=context.sender,
        period=args.period,
        producer=args.producer,
        energy_wh=args.energy_wh,
        beneficiary=args.beneficiary,
        purpose=args.purpose,
    )
