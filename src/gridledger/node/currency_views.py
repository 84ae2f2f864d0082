"""The reads of the currency's supply and of certificates of origin, as reply Structs
(`gridledger.client.currency_replies`): the issuer's supply report, a member's
certificates and claims, and its hour-by-hour matching report. (An account's lots are
part of its account read, `views.account_view`.)"""

from __future__ import annotations

import msgspec

from gridledger.client.currency_replies import (
    CertificateReportReply,
    CertificatesReply,
    CertificateTotalsReply,
    ClaimReply,
    HoldingReply,
    MatchedHourReply,
    SupplyReply,
)
from gridledger.contracts import certificates, currency, settlement
from gridledger.contracts.currency_lots import first_live_day, split_expired
from gridledger.contracts.parameters import parameters_for
from gridledger.ledger import State
from gridledger.node.core import Node
from gridledger.node.views import check_address

BASIS_POINTS = 10_000


def supply_view(node: Node) -> SupplyReply:
    state = node.state
    report = currency.supply_report(state)
    past_life = 0
    if report.lifetime_days:
        first = first_live_day(node.head.timestamp_ms // 1000, report.lifetime_days)
        for key in state.keys_with_prefix(currency.NAMESPACE, "balance/"):
            account = key.removeprefix("balance/")
            value = currency.stored_balance(state, account)
            if isinstance(value, list) and currency.ages(account):
                past_life += split_expired(value, first)[1]
    return SupplyReply(
        **msgspec.structs.asdict(report), reconciles=report.reconciles, past_life_micro=past_life
    )


def _holdings(state: State, holder: str) -> list[HoldingReply]:
    prefix = f"holding/{holder}/"
    found = []
    for key in state.keys_with_prefix(certificates.NAMESPACE, prefix):
        period_text, producer = key.removeprefix(prefix).split("/", 1)
        period = int(period_text)
        certificate = certificates.read_certificate(state, period, producer)
        found.append(
            HoldingReply(
                period=period,
                producer=producer,
                technology="" if certificate is None else certificate.technology,
                energy_wh=certificates.held_wh(state, holder, period, producer),
            )
        )
    return found


def _claims(state: State, holder: str) -> list[ClaimReply]:
    found = []
    for number in range(certificates.claim_count(state)):
        claim = certificates.read_claim(state, number)
        if claim is not None and claim.holder == holder:
            found.append(ClaimReply(**msgspec.structs.asdict(claim)))
    return found


def certificates_view(node: Node, holder: str) -> CertificatesReply:
    check_address(holder)
    state = node.state
    return CertificatesReply(
        holder=holder,
        enabled=certificates.enabled(state),
        holdings=_holdings(state, holder),
        claims=_claims(state, holder),
        totals=CertificateTotalsReply(**msgspec.structs.asdict(certificates.totals(state))),
    )


def _score(part_wh: int, whole_wh: int) -> int:
    return 0 if whole_wh == 0 else part_wh * BASIS_POINTS // whole_wh


def certificate_report_view(node: Node, member: str) -> CertificateReportReply:
    """Consumption matched by certificates of the same hour (EnergyTag's hourly matching).

    Per settled period in which the member has a statement: its metered consumption
    (``consumed_wh``), the Wh of that period's certificates it holds and has retired, and
    the matched Wh, at most the consumption. The scores sum the matched Wh over the
    periods and divide by the whole consumption (basis points).
    """
    check_address(member)
    state = node.state
    held: dict[int, int] = {}
    for holding in _holdings(state, member):
        held[holding.period] = held.get(holding.period, 0) + holding.energy_wh
    retired: dict[int, int] = {}
    for claim in _claims(state, member):
        retired[claim.period] = retired.get(claim.period, 0) + claim.energy_wh
    hours = []
    for key in state.keys_with_prefix(settlement.NAMESPACE, "period/"):
        period = int(key.removeprefix("period/"))
        statement = settlement.read_statement(state, period, member)
        if statement is None:
            continue
        consumed = statement.consumed_wh
        held_wh, retired_wh = held.get(period, 0), retired.get(period, 0)
        hours.append(
            MatchedHourReply(
                period=period,
                start_s=period * parameters_for(state, period).period_seconds,
                consumed_wh=consumed,
                held_wh=held_wh,
                retired_wh=retired_wh,
                matched_wh=min(consumed, held_wh + retired_wh),
                claimed_wh=min(consumed, retired_wh),
            )
        )
    consumed = sum(h.consumed_wh for h in hours)
    matched = sum(h.matched_wh for h in hours)
    claimed = sum(h.claimed_wh for h in hours)
    return CertificateReportReply(
        member=member,
        hours=hours,
        consumed_wh=consumed,
        matched_wh=matched,
        claimed_wh=claimed,
        matching_score_bp=_score(matched, consumed),
        claimed_score_bp=_score(claimed, consumed),
    )
