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
reason: `governance_parameters`); ``day_ahead`` → `DayAhead` and
``sealed_orders`` → `SealedOrders` (only if genesis offers them).

This module is the contract: where the rules are stored, which are in force
for a period, the genesis and the changes. The rules themselves, as values
with their range checks, are in `market_parameters` and `day_ahead_parameters`;
the refusals in `parameters_errors`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.contracts.day_ahead_parameters import (
    DAY_AHEAD_FIELDS,
    DayAhead,
    SealedOrders,
    parse_day_ahead,
    parse_sealed_orders,
)
from gridledger.contracts.governance_parameters import KEY as GOVERNANCE_KEY
from gridledger.contracts.governance_parameters import parse_governance
from gridledger.contracts.market_parameters import (
    WINDOW_FIELDS,
    MarketParameters,
    ScheduledParameters,
    ScheduledWindows,
    TradingWindows,
    check_parameters,
    check_windows,
)
from gridledger.contracts.membership import require_role
from gridledger.contracts.parameters_errors import (
    ChangeNotInFuture,
    InvalidParameter,
    PeriodLengthFixed,
    UnknownParameter,
)
from gridledger.contracts.registry import Contract
from gridledger.ledger import Context, Genesis, GenesisError, StateReader, decode

NAMESPACE = "parameters"
contract = Contract(NAMESPACE)


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


def sealed_orders_of(state: StateReader) -> SealedOrders | None:
    """The community's sealed-order rules, None if it takes no sealed orders."""
    raw = state.get(NAMESPACE, "sealed_orders")
    return None if raw is None else decode(raw, SealedOrders)


def day_ahead_of(state: StateReader) -> DayAhead | None:
    """The community's day-ahead auction, None if it offers none."""
    raw = state.get(NAMESPACE, "day_ahead")
    return None if raw is None else decode(raw, DayAhead)


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
