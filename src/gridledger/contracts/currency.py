"""The balances of the community currency: plain integers, or lots with an issue day.

The tokens contract keeps one state value per account, ``balance/<account>``:

- with expiry off (``lifetime_days`` 0 or absent, the default) an integer of
  micro-units, exactly as before time-attributed units existed, so chains
  without expiry keep their bytes, hashes and speed;
- with expiry on (``parameters.tokens.lifetime_days`` > 0 in genesis) the flat
  lot list of `currency_lots` (seed 004 §3.4): every unit keeps the day it was
  issued, every debit spends the oldest lots first, every credit keeps the
  days of the units it receives.

Which of the two a balance is follows from its stored value, so a debit needs
no extra read in the plain case; only issuing and expiry read the lifetime.

Expiry. A lot past its life leaves circulation and returns to the issuer: the
amount is taken off the balance and off ``supply`` and added to ``expired``,
with an ``expired`` event naming the account. This happens whenever a balance is
written (a payment, escrow, settlement, an issue) and, for every member, when a
period settles (`settlement.settle` calls `sweep_accounts`), so a balance holds
at most ``lifetime_days`` lots after any write. Only members' holdings age: the
contracts' own accounts (``market:escrow``, ``settlement:clearing``, ``grid``)
hold money in trust for a trade or for the utility, and a lot there must still
pay what it was locked for. Units it pays out keep their day if still live; older
ones arrive dated to the oldest live day (`currency_lots.raise_to`), so a seller paid
from escrow is never paid in units dead on arrival. This extends no unit's life
beyond the end of the day it leaves the trust account, and only units that were live
when they entered it (a debit spends live units only).

The supply report always reconciles: issued = live + expired + burned, with
``supply`` the live units (units held in balances). ``issued`` is written by the
first issue after genesis; before it, every unit came from genesis, so issued
is what is live, expired or burned.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.currency_lots import (
    DAY_SECONDS,
    Lot,
    Lots,
    day_of,
    first_live_day,
    lots_read,
    lots_total,
    merge_lots,
    raise_to,
    split_expired,
    take_oldest,
)
from gridledger.ledger import Context, InsufficientFunds, StateReader

NAMESPACE = "tokens"
TRUST_ACCOUNTS = ("grid",)
"""Accounts that are neither members nor ``<contract>:<purpose>`` but hold money in trust."""

_BALANCE = msgspec.msgpack.Decoder(int | list[int])
"""Balances are written by `Context.write` (canonical by construction), so they are read
with a typed decoder, without `ledger.decode`'s re-encoding check: every order reads two
or three balances."""
_INTEGER = msgspec.msgpack.Decoder(int)


class SupplyReport(msgspec.Struct, frozen=True):
    """The issuer's reconciliation, all in micro-units: issued = live + expired + burned."""

    issued_micro: int
    live_micro: int
    expired_micro: int
    burned_micro: int
    lifetime_days: int
    """0: expiry off."""

    @property
    def reconciles(self) -> bool:
        return self.issued_micro == self.live_micro + self.expired_micro + self.burned_micro


def balance_key(account: str) -> str:
    return f"balance/{account}"


def stored_balance(state: StateReader, account: str) -> int | Lots:
    """The stored value: an int with expiry off, a lot list with it on (0 if absent)."""
    raw = state.get(NAMESPACE, balance_key(account))
    return 0 if raw is None else _BALANCE.decode(raw)


def balance_of(state: StateReader, account: str) -> int:
    """Micro-units held by `account`, lots past their life but not yet returned included."""
    value = stored_balance(state, account)
    return value if isinstance(value, int) else lots_total(value)


def counter(state: StateReader, name: str) -> int:
    """One of ``supply``, ``burned``, ``expired`` (micro-units; absent means zero)."""
    raw = state.get(NAMESPACE, name)
    return 0 if raw is None else _INTEGER.decode(raw)


def lifetime_days(state: StateReader) -> int:
    """The currency's lifetime in days; 0 means units never expire."""
    return counter(state, "lifetime_days")


def issued_total(state: StateReader) -> int:
    """Every micro-unit ever issued, genesis included."""
    raw = state.get(NAMESPACE, "issued")
    if raw is not None:
        return _INTEGER.decode(raw)
    return counter(state, "supply") + counter(state, "burned") + counter(state, "expired")


def supply_report(state: StateReader) -> SupplyReport:
    return SupplyReport(
        issued_micro=issued_total(state),
        live_micro=counter(state, "supply"),
        expired_micro=counter(state, "expired"),
        burned_micro=counter(state, "burned"),
        lifetime_days=lifetime_days(state),
    )


def lots_of(state: StateReader, account: str) -> list[Lot]:
    """The account's lots with their expiry (empty with expiry off)."""
    value = stored_balance(state, account)
    return [] if isinstance(value, int) else lots_read(value, lifetime_days(state))


def ages(account: str) -> bool:
    """Whether the account's lots expire: members' do, the contracts' trust accounts do not."""
    return ":" not in account and account not in TRUST_ACCOUNTS


# -- writing -----------------------------------------------------------------------------


def _put(context: Context, key: str, value: int | Lots) -> None:
    if value:
        context.write(NAMESPACE, key, value)
    else:
        context.delete(NAMESPACE, key)


def _write(context: Context, account: str, value: int | Lots) -> None:
    _put(context, balance_key(account), value)


def _add_counter(context: Context, name: str, amount_micro: int) -> None:
    context.write(NAMESPACE, name, counter(context.overlay, name) + amount_micro)


def _expire(context: Context, account: str, lots: Lots, first_live: int) -> Lots:
    """Return the account's lots older than `first_live` to the issuer; the live lots."""
    if not lots or lots[0] >= first_live or not ages(account):
        return lots
    live, expired = split_expired(lots, first_live)
    _add_counter(context, "supply", -expired)
    _add_counter(context, "expired", expired)
    context.emit(NAMESPACE, "expired", account=account, amount_micro=expired)
    return live


def _first_live(context: Context) -> int:
    return first_live_day(context.timestamp_ms // 1000, lifetime_days(context.overlay))


def _take(context: Context, account: str, lots: Lots, amount_micro: int, first: int) -> Lots:
    """Spend `amount_micro` of the account's live lots, oldest first; the lots taken."""
    live = _expire(context, account, lots, first)
    available = lots_total(live)
    if available < amount_micro:
        raise InsufficientFunds(account, available, amount_micro)
    kept, taken = take_oldest(live, amount_micro)
    _write(context, account, kept)
    if taken and taken[0] < first and not ages(account):  # paid out of trust: arrives live
        return raise_to(taken, first)
    return taken


def _receive(context: Context, account: str, lots: Lots, first: int) -> None:
    value = stored_balance(context.overlay, account)
    held = [] if isinstance(value, int) else value
    _write(context, account, _expire(context, account, merge_lots(held, lots), first))


def pay(context: Context, source: str, target: str, amount_micro: int) -> None:
    """Move `amount_micro` from `source` to `target` (InsufficientFunds if short), oldest
    lots first with expiry on; the one path of transfers, escrow and settlement.

    Written for speed (every transfer and order runs it): each key is built once, and
    the common case under expiry, a balance of one live lot paid to a balance whose
    newest lot is of the same day, is plain arithmetic.
    """
    overlay = context.overlay
    source_key, target_key = f"balance/{source}", f"balance/{target}"
    raw = overlay.get(NAMESPACE, source_key)
    value = 0 if raw is None else _BALANCE.decode(raw)
    if isinstance(value, int):
        if value < amount_micro:
            raise InsufficientFunds(source, value, amount_micro)
        _put(context, source_key, value - amount_micro)
        raw = overlay.get(NAMESPACE, target_key)
        held = 0 if raw is None else _BALANCE.decode(raw)
        _put(context, target_key, (held if isinstance(held, int) else 0) + amount_micro)
        return
    first = _first_live(context)
    if len(value) == 2 and value[0] >= first and value[1] >= amount_micro:
        day, left = value[0], value[1] - amount_micro
        _put(context, source_key, [day, left] if left else 0)
        raw = overlay.get(NAMESPACE, target_key)
        lots = None if raw is None else _BALANCE.decode(raw)
        if isinstance(lots, list) and lots and lots[-2] == day and lots[0] >= first:
            _put(context, target_key, [*lots[:-1], lots[-1] + amount_micro])
            return
        _receive(context, target, [day, amount_micro], first)
        return
    _receive(context, target, _take(context, source, value, amount_micro, first), first)


def debit(context: Context, account: str, amount_micro: int) -> None:
    """Take `amount_micro` from `account`, oldest lots first (InsufficientFunds if short)."""
    value = stored_balance(context.overlay, account)
    if isinstance(value, int):
        if value < amount_micro:
            raise InsufficientFunds(account, value, amount_micro)
        _write(context, account, value - amount_micro)
    else:
        _take(context, account, value, amount_micro, _first_live(context))


def issue(context: Context, account: str, amount_micro: int) -> None:
    """Create `amount_micro` for `account`, as a lot of today when expiry is on."""
    issued = issued_total(context.overlay)
    if lifetime_days(context.overlay):
        today = day_of(context.timestamp_ms // 1000)
        _receive(context, account, [today, amount_micro], _first_live(context))
    else:
        held = stored_balance(context.overlay, account)
        _write(context, account, (held if isinstance(held, int) else 0) + amount_micro)
    _add_counter(context, "supply", amount_micro)
    context.write(NAMESPACE, "issued", issued + amount_micro)


def destroy(context: Context, account: str, amount_micro: int) -> None:
    """Burn `amount_micro` from `account`, oldest lots first (InsufficientFunds if short)."""
    debit(context, account, amount_micro)
    _add_counter(context, "supply", -amount_micro)
    _add_counter(context, "burned", amount_micro)


def sweep_accounts(context: Context, accounts: list[str]) -> None:
    """Return every expired lot of these accounts to the issuer (a no-op with expiry off)."""
    if not lifetime_days(context.overlay):
        return
    first = _first_live(context)
    for account in accounts:
        value = stored_balance(context.overlay, account)
        if isinstance(value, list) and value and value[0] < first:
            _write(context, account, _expire(context, account, value, first))


def write_genesis_balances(
    context: Context, balances: list[tuple[str, int]], lifetime: int
) -> None:
    """Opening balances; with expiry on, each a lot of the genesis day, and the lifetime."""
    day = context.timestamp_ms // 1000 // DAY_SECONDS
    supply = 0
    for account, amount_micro in balances:
        _write(context, account, [day, amount_micro] if lifetime else amount_micro)
        supply += amount_micro
    if lifetime:
        context.write(NAMESPACE, "lifetime_days", lifetime)
    context.write(NAMESPACE, "supply", supply)
