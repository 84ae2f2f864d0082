"""Community market parameters: the rules every market contract reads.

They come from the genesis document (``parameters.market``) and only the
regulator can change them, and only for periods that have not started yet:
a change is stored with the first delivery period it applies to, so every
period is settled under the rules it was traded under.

Units: seconds for durations, micro-units per kWh for prices, micro-units for
money. A delivery period is ``timestamp_s // period_seconds``.

State (namespace ``parameters``): ``market`` → list of `ScheduledParameters`,
ordered by ``from_period``; ``windows`` → list of `ScheduledWindows` (the
trading windows, `TradingWindows`), written only once a community sets one of
them: they are named in ``parameters.market`` and changed by ``change_market``
like the others, but kept apart so that a chain that never sets them keeps the
bytes it had before they existed; ``governance`` → `GovernanceParameters`
(quorum, majority, founding phase; only if genesis names them, for the same
reason: `governance_parameters`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.contracts.errors import ContractError
from gridledger.contracts.governance_parameters import KEY as GOVERNANCE_KEY
from gridledger.contracts.governance_parameters import parse_governance
from gridledger.contracts.membership import require_role
from gridledger.contracts.registry import Contract
from gridledger.ledger import Context, Genesis, GenesisError, ResultCode, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER

NAMESPACE = "parameters"
contract = Contract(NAMESPACE)

MECHANISMS = ("high_low", "continuous", "call_auction")


# -- errors ------------------------------------------------------------------------------


class ParametersError(ContractError):
    """Base of the parameters contract's refusals."""


class ChangeNotInFuture(ParametersError):
    """A change must start at a period that has not started yet."""

    code = ResultCode.CHANGE_NOT_IN_FUTURE

    def __init__(self, from_period: int, current_period: int) -> None:
        self.from_period, self.current_period = from_period, current_period
        super().__init__(
            f"from_period {from_period} is not in the future (current period {current_period})"
        )


class UnknownParameter(ParametersError):
    """A change names parameters the market does not have."""

    code = ResultCode.UNKNOWN_PARAMETER

    def __init__(self, names: str) -> None:
        self.names = names
        super().__init__(f"unknown parameter(s): {names}")


class InvalidParameter(ParametersError):
    """A parameter has the wrong type or is out of its range (`check_parameters`)."""

    code = ResultCode.INVALID_PARAMETER

    def __init__(self, parameter: str, requirement: str) -> None:
        self.parameter, self.requirement = parameter, requirement
        super().__init__(f"{parameter} {requirement}")


class PeriodLengthFixed(ParametersError):
    """``period_seconds`` cannot change on a running chain: periods would shift."""

    code = ResultCode.PERIOD_LENGTH_FIXED

    def __init__(self, period_seconds: int, requested_seconds: int) -> None:
        self.period_seconds, self.requested_seconds = period_seconds, requested_seconds
        super().__init__(
            f"period_seconds cannot change on a running chain "
            f"({period_seconds} s, asked for {requested_seconds} s)"
        )


# -- parameters --------------------------------------------------------------------------


class MarketParameters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period_seconds: int = 3600
    """Length of a delivery period (one hour by default, as in seeds 000, 001 and 003)."""
    gate_closure_seconds: int = 300
    """Orders for a period close this long before it starts; seed 001's commit window
    (`TradingWindows.commit_seconds`) ends here."""
    meter_window_seconds: int = 900
    """Readings for a period are accepted for this long after it ends."""
    feed_in_price_micro_per_kwh: int = 770_000
    """What the grid pays for surplus (seed 003: 0.77 per kWh)."""
    grid_price_micro_per_kwh: int = 850_000
    """What the grid charges for energy (seed 003: 0.85 per kWh)."""
    cap_price_micro_per_kwh: int = 850_000
    """The regulator's standing offer, with unlimited volume (seed 000 §2.2 (4)).

    It bounds every price; it trades itself only while it is below the grid price
    (`standing_offers_in_force`)."""
    breakdown_penalty_micro: int = 1_000_000
    """Paid by a producer who sold but delivered nothing (seed 000 eq. 1, σ)."""
    mechanism: str = "high_low"


class ScheduledParameters(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    from_period: int
    parameters: MarketParameters


class TradingWindows(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When members may negotiate, commit and amend (seeds 001 §4.1 and 003 §3).

    Seed 001 trades each delivery period in a one-hour window ending at its gate
    closure: ``negotiation_seconds`` in which sellers publish offers and the
    parties bargain off chain, then ``commit_seconds`` in which they only sign
    what they agreed and the chain records it. The market contract enforces
    both from the block timestamp (`bilateral_window`).
    """

    negotiation_seconds: int = 55 * 60
    """Offers for a period are published in this window (seed 001: 55 minutes)."""
    commit_seconds: int = 5 * 60
    """Agreements are signed in this window, which ends at gate closure (seed 001: 5 minutes)."""
    amend_seconds: int = 0
    """An order may be amended or withdrawn this long after it was placed (seed 003's
    "short time after release"); 0 = until gate closure."""


WINDOW_FIELDS = tuple(TradingWindows.__struct_fields__)


class ScheduledWindows(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    from_period: int
    windows: TradingWindows


class BilateralWindow(msgspec.Struct, frozen=True):
    """Seed 001's window for one delivery period, in block-time seconds.

    ``[opens_s, commit_opens_s)`` negotiation: offers are published;
    ``[commit_opens_s, closes_s)`` commit: agreements are signed; ``closes_s``
    is the period's gate closure.
    """

    opens_s: int
    commit_opens_s: int
    closes_s: int


def bilateral_window(
    parameters: MarketParameters, windows: TradingWindows, period: int
) -> BilateralWindow:
    """The negotiation and commit windows of `period`, ending at its gate closure."""
    closes = period * parameters.period_seconds - parameters.gate_closure_seconds
    commit_opens = closes - windows.commit_seconds
    return BilateralWindow(commit_opens - windows.negotiation_seconds, commit_opens, closes)


def check_parameters(parameters: MarketParameters) -> None:
    """Raise `InvalidParameter` naming the first field that is out of range."""
    if parameters.period_seconds < 60 or 86_400 % parameters.period_seconds:
        raise InvalidParameter("period_seconds", "must be at least 60 and divide a day")
    if not 0 <= parameters.gate_closure_seconds < parameters.period_seconds:
        raise InvalidParameter("gate_closure_seconds", "must be in [0, period_seconds)")
    if not 0 < parameters.meter_window_seconds <= 7 * 86_400:
        raise InvalidParameter("meter_window_seconds", "must be in (0, 7 days]")
    if parameters.feed_in_price_micro_per_kwh < 0:
        raise InvalidParameter("feed_in_price_micro_per_kwh", "must not be negative")
    if parameters.grid_price_micro_per_kwh < parameters.feed_in_price_micro_per_kwh:
        raise InvalidParameter("grid_price_micro_per_kwh", "must be at least the feed-in price")
    if not (parameters.feed_in_price_micro_per_kwh <= parameters.cap_price_micro_per_kwh):
        raise InvalidParameter("cap_price_micro_per_kwh", "must be at least the feed-in price")
    if parameters.breakdown_penalty_micro < 0:
        raise InvalidParameter("breakdown_penalty_micro", "must not be negative")
    if parameters.mechanism not in MECHANISMS:
        raise InvalidParameter("mechanism", f"must be one of {', '.join(MECHANISMS)}")


def check_windows(windows: TradingWindows) -> None:
    """Raise `InvalidParameter` naming the first window that is out of range."""
    if not 0 < windows.negotiation_seconds <= 86_400:
        raise InvalidParameter("negotiation_seconds", "must be in (0, 1 day]")
    if not 0 < windows.commit_seconds <= 86_400:
        raise InvalidParameter("commit_seconds", "must be in (0, 1 day]")
    if not 0 <= windows.amend_seconds <= 86_400:
        raise InvalidParameter("amend_seconds", "must be in [0, 1 day]")


def standing_offers_in_force(parameters: MarketParameters) -> bool:
    """True when the regulator's standing offer is in force: its cap is below the grid price.

    Then the standing offers trade (seed 000 §2.2 (4), DESIGN.md "Market and
    settlement"): at the clear, the regulator sells unlimited energy at the cap
    to every buy whose limit reaches it and the grid buys unlimited energy at
    the feed-in price from every sell whose limit is at most that; at
    settlement, the regulator serves unmet demand at the cap. Each is a trade of
    kind ``regulator`` or ``grid``. A cap at or above the grid price offers
    nothing the grid does not: the community then has no regulator's offer of
    its own, and settlement plays the grid's part alone (unmet demand at the
    grid price, which is then at most the cap), as on every chain recorded
    before the standing offers traded; so such chains keep their bytes.
    """
    return parameters.cap_price_micro_per_kwh < parameters.grid_price_micro_per_kwh


def schedule(state: StateReader) -> list[ScheduledParameters]:
    raw = state.get(NAMESPACE, "market")
    return [] if raw is None else decode(raw, list[ScheduledParameters])


def parameters_for(state: StateReader, period: int) -> MarketParameters:
    """The parameters in force for delivery period `period`."""
    current = MarketParameters()
    for entry in schedule(state):
        if entry.from_period <= period:
            current = entry.parameters
    return current


def window_schedule(state: StateReader) -> list[ScheduledWindows]:
    raw = state.get(NAMESPACE, "windows")
    return [] if raw is None else decode(raw, list[ScheduledWindows])


def windows_for(state: StateReader, period: int) -> TradingWindows:
    """The trading windows in force for delivery period `period` (seed 001's by default)."""
    current = TradingWindows()
    for entry in window_schedule(state):
        if entry.from_period <= period:
            current = entry.windows
    return current


def current_period(context: Context) -> int:
    """The delivery period the block's timestamp falls in, under the parameters in force."""
    return period_of(context.overlay, context.timestamp_ms)


def period_of(state: StateReader, timestamp_ms: int) -> int:
    """The delivery period a time falls in (period length never changes on a running chain)."""
    return timestamp_ms // 1000 // parameters_for(state, 0).period_seconds


def _split(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Market parameters and trading windows, apart (the day-ahead gate is neither)."""
    windows = {name: value for name, value in raw.items() if name in WINDOW_FIELDS}
    market = {
        name: value
        for name, value in raw.items()
        if name not in WINDOW_FIELDS and name not in DAY_AHEAD_FIELDS
    }
    return market, windows


# -- the day-ahead auction (issue 13) --------------------------------------------------------

DAY_SECONDS = 86_400


class DayAhead(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The community's day-ahead call auction (seed 002 §5.3.3), stored only when offered.

    The products of a delivery day (the periods of one UTC day) take orders
    until the day's gate, ``gate_seconds`` before the day starts (43,200: noon
    the day before, as the European day-ahead markets), and are cleared there
    together (`market_day_ahead`). A genesis offers it by naming
    ``day_ahead_gate_seconds`` in ``parameters.market``; without it the key is
    absent and day-ahead orders are refused (DAY_AHEAD_NOT_OFFERED), so
    communities that do not offer it keep their state bytes.
    """

    gate_seconds: int = 43_200


SEALED_FIELDS = ("sealed_reveal_window_seconds", "sealed_non_reveal_fee_micro")
DAY_AHEAD_FIELDS = ("day_ahead_gate_seconds", *SEALED_FIELDS)


class SealedOrders(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Sealed day-ahead orders (issue 15, `market_sealed`), stored only when offered.

    A genesis offers them by naming ``sealed_reveal_window_seconds`` (with the
    day-ahead auction); without it the key is absent, sealed orders are refused
    (SEALED_ORDERS_NOT_OFFERED) and other communities keep their state bytes.
    Timing of a day: orders (plain and sealed) until the gate; the owners of
    sealed orders reveal them in [gate, gate + reveal_window_seconds); the clear
    happens at or after gate + reveal_window_seconds. ``non_reveal_fee_micro``
    is escrowed with each sealed order, returned at its reveal or cancellation,
    and paid to the grid account when the order is dropped unrevealed.
    """

    reveal_window_seconds: int
    non_reveal_fee_micro: int = 0


def parse_sealed_orders(
    raw: dict[str, Any], parameters: MarketParameters, day_ahead: DayAhead | None, field: str
) -> SealedOrders | None:
    """The sealed orders a genesis offers, or None; the reveal window must end before the
    day's first product closes (``gate_seconds - reveal_window > gate_closure_seconds``)."""
    named = {name: raw[name] for name in SEALED_FIELDS if name in raw}
    if not named:
        return None
    if "sealed_reveal_window_seconds" not in named:
        raise GenesisError(field, "sealed_non_reveal_fee_micro needs sealed_reveal_window_seconds")
    if day_ahead is None:
        raise GenesisError(
            field, "sealed orders need the day-ahead auction (day_ahead_gate_seconds)"
        )
    try:
        sealed = msgspec.convert(
            {name.removeprefix("sealed_"): value for name, value in named.items()},
            SealedOrders,
            strict=True,
        )
    except msgspec.ValidationError as error:
        raise GenesisError(field, str(error).replace("$.", "sealed_")) from error
    limit = day_ahead.gate_seconds - parameters.gate_closure_seconds
    if not 0 < sealed.reveal_window_seconds < limit:
        raise GenesisError(
            field,
            f"sealed_reveal_window_seconds must be in (0, {limit}): the reveal window ends "
            "before the day's first product closes",
        )
    if not 0 <= sealed.non_reveal_fee_micro <= MAX_INTEGER:
        raise GenesisError(field, f"sealed_non_reveal_fee_micro must be in [0, {MAX_INTEGER}]")
    return sealed


def sealed_orders_of(state: StateReader) -> SealedOrders | None:
    """The community's sealed-order rules, None if it takes no sealed orders."""
    raw = state.get(NAMESPACE, "sealed_orders")
    return None if raw is None else decode(raw, SealedOrders)


def check_day_ahead(day_ahead: DayAhead, parameters: MarketParameters) -> None:
    """The gate lies before every product's own gate closure (strictly: the day's first
    product must still be open at the clear), and at most two days ahead."""
    if not parameters.gate_closure_seconds < day_ahead.gate_seconds <= 2 * DAY_SECONDS:
        raise InvalidParameter(
            "day_ahead_gate_seconds",
            f"must be in (gate_closure_seconds ({parameters.gate_closure_seconds}), "
            f"{2 * DAY_SECONDS}]",
        )


def parse_day_ahead(
    raw: dict[str, Any], parameters: MarketParameters, field: str
) -> DayAhead | None:
    """The day-ahead auction a genesis offers, or None."""
    if "day_ahead_gate_seconds" not in raw:
        return None
    try:
        day_ahead = msgspec.convert(
            {"gate_seconds": raw["day_ahead_gate_seconds"]}, DayAhead, strict=True
        )
        check_day_ahead(day_ahead, parameters)
    except (msgspec.ValidationError, InvalidParameter) as error:
        raise GenesisError(
            field, str(error).replace("$.gate_seconds", "day_ahead_gate_seconds")
        ) from error
    return day_ahead


def day_ahead_of(state: StateReader) -> DayAhead | None:
    """The community's day-ahead auction, None if it offers none."""
    raw = state.get(NAMESPACE, "day_ahead")
    return None if raw is None else decode(raw, DayAhead)


def day_of(period: int, period_seconds: int) -> int:
    """The delivery day (UTC days since 1970) a period starts in."""
    return period * period_seconds // DAY_SECONDS


def day_ahead_gate_s(day: int, day_ahead: DayAhead) -> int:
    """When the day-ahead auction of ``day`` closes and clears (Unix seconds)."""
    return day * DAY_SECONDS - day_ahead.gate_seconds


def parse_parameters(raw: dict[str, Any], field: str) -> MarketParameters:
    try:
        parameters = msgspec.convert(_split(raw)[0], MarketParameters, strict=True)
        check_parameters(parameters)
    except (msgspec.ValidationError, InvalidParameter) as error:
        raise GenesisError(field, str(error)) from error
    return parameters


def parse_windows(raw: dict[str, Any], field: str) -> TradingWindows | None:
    """The trading windows a genesis names, or None when it names none."""
    named = _split(raw)[1]
    if not named:
        return None
    try:
        windows = msgspec.convert(named, TradingWindows, strict=True)
        check_windows(windows)
    except (msgspec.ValidationError, InvalidParameter) as error:
        raise GenesisError(field, str(error)) from error
    return windows


@contract.genesis
def write_genesis(context: Context, genesis: Genesis) -> None:
    raw = dict(genesis.parameters.get("market", {}))
    parameters = parse_parameters(raw, "parameters.market")
    context.write(NAMESPACE, "market", [ScheduledParameters(0, parameters)])
    windows = parse_windows(raw, "parameters.market")
    if windows is not None:
        context.write(NAMESPACE, "windows", [ScheduledWindows(0, windows)])
    day_ahead = parse_day_ahead(raw, parameters, "parameters.market")
    if day_ahead is not None:
        context.write(NAMESPACE, "day_ahead", day_ahead)
    sealed = parse_sealed_orders(raw, parameters, day_ahead, "parameters.market")
    if sealed is not None:
        context.write(NAMESPACE, "sealed_orders", sealed)
    governance = genesis.parameters.get("governance")
    if governance is not None:  # absent: nothing stored, founding for ever (governance_parameters)
        context.write(NAMESPACE, GOVERNANCE_KEY, parse_governance(dict(governance)))


class ChangeArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    from_period: int
    parameters: dict[str, Any]
    """Only the fields that change; the others keep their value in force at `from_period`."""


def invalid_type(error: msgspec.ValidationError) -> InvalidParameter:
    """msgspec's ``Expected `int`, got `str` - at `$.name``` as `InvalidParameter`."""
    text = str(error)
    requirement, _, path = text.partition(" - at ")
    name = path.strip("`").removeprefix("$.") or "parameters"
    return InvalidParameter(name, f"is invalid: {requirement}")


def checked_change(
    context: Context, from_period: int, changes: dict[str, Any]
) -> tuple[MarketParameters, TradingWindows | None]:
    """The parameters (and trading windows, if any change) that `changes` would put in force
    from `from_period`, or the refusal; nothing is written."""
    now = current_period(context)
    if from_period <= now:
        raise ChangeNotInFuture(from_period, now)
    base = msgspec.structs.asdict(parameters_for(context.overlay, from_period))
    unknown = sorted(set(changes) - set(base) - set(WINDOW_FIELDS))
    if unknown:
        raise UnknownParameter(", ".join(unknown))
    market_changes, window_changes = _split(changes)
    try:
        new = msgspec.convert({**base, **market_changes}, MarketParameters, strict=True)
    except msgspec.ValidationError as error:
        raise invalid_type(error) from error
    check_parameters(new)
    windows = _checked_windows(context, from_period, window_changes) if window_changes else None
    in_force = parameters_for(context.overlay, from_period).period_seconds
    if new.period_seconds != in_force:
        raise PeriodLengthFixed(in_force, new.period_seconds)
    return new, windows


def _checked_windows(context: Context, from_period: int, changes: dict[str, Any]) -> TradingWindows:
    base = msgspec.structs.asdict(windows_for(context.overlay, from_period))
    try:
        new = msgspec.convert({**base, **changes}, TradingWindows, strict=True)
    except msgspec.ValidationError as error:
        raise invalid_type(error) from error
    check_windows(new)
    return new


def _write_windows(context: Context, from_period: int, windows: TradingWindows) -> None:
    entries = window_schedule(context.overlay)
    context.write(
        NAMESPACE,
        "windows",
        [
            *[e for e in entries if e.from_period < from_period],
            ScheduledWindows(from_period, windows),
            *[e for e in entries if e.from_period > from_period],
        ],
    )


def schedule_change(context: Context, from_period: int, changes: dict[str, Any]) -> None:
    """Put `changes` in force from the future period `from_period` (the regulator's change,
    or the members' ratified proposal)."""
    new, windows = checked_change(context, from_period, changes)
    if windows is not None:
        _write_windows(context, from_period, windows)
    entries = [e for e in schedule(context.overlay) if e.from_period < from_period]
    later = [e for e in schedule(context.overlay) if e.from_period > from_period]
    context.write(NAMESPACE, "market", [*entries, ScheduledParameters(from_period, new), *later])
    context.emit(NAMESPACE, "market_changed", from_period=from_period, changes=dict(changes))


@contract.method(ChangeArgs)
def change_market(context: Context, args: ChangeArgs) -> None:
    """The regulator changes market parameters from a future delivery period on."""
    require_role(context, ("regulator",), "change market parameters")
    schedule_change(context, args.from_period, args.parameters)
