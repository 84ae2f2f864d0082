"""Lots of the time-attributed currency (seed 004 §3.4): pure functions over one balance.

Seed 004 §3.4 gives each unit of the community currency its issue time and an
operating life. A balance is then a set of lots, each an issue day and an amount
of micro-units. Units issued on the same UTC day form one lot: a lot is named by
its day (``issued_at // DAY_SECONDS``), so a balance never holds more lots than
the lifetime has days (older ones have expired), however many payments made it.

A lot of day ``d`` expires at ``(d + lifetime_days) * DAY_SECONDS`` (Unix
seconds): the lifetime runs from the start of the issue day, so units issued
late in a day share the expiry of that day's earlier units, never a later one.

Encoding: one flat list of integers ``[day, amount_micro, day, amount_micro, ...]``
with days strictly ascending and every amount positive. It is the whole state
value of a balance under expiry, small and cheap to decode (no nested arrays),
and spending the oldest lot first is spending from the front.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

DAY_SECONDS = 86_400
"""Lots are merged per UTC day: units issued the same day are one lot."""

Lots = list[int]
"""``[day, amount_micro, day, amount_micro, ...]``, days ascending, amounts positive."""


@dataclass(frozen=True, slots=True)
class Lot:
    """One lot as read back: its issue day's start, its expiry and its amount (seconds, micro)."""

    issued_at_s: int
    expires_at_s: int
    amount_micro: int


def day_of(timestamp_s: int) -> int:
    """The UTC day number of a Unix time (seconds)."""
    return timestamp_s // DAY_SECONDS


def first_live_day(now_s: int, lifetime_days: int) -> int:
    """The oldest issue day whose lots are still live at `now_s`: day d lives while
    ``now_s < (d + lifetime_days) * DAY_SECONDS``."""
    return day_of(now_s) - lifetime_days + 1


def lots_total(lots: Lots) -> int:
    """Micro-units held in all lots."""
    return sum(lots[1::2])


def split_expired(lots: Lots, first_live: int) -> tuple[Lots, int]:
    """(the live lots, the micro-units in lots older than `first_live`)."""
    expired = 0
    index = 0
    while index < len(lots) and lots[index] < first_live:
        expired += lots[index + 1]
        index += 2
    return lots[index:], expired


def take_oldest(lots: Lots, amount_micro: int) -> tuple[Lots, Lots]:
    """Spend `amount_micro` oldest lot first: (what stays, what was taken), both as lots.

    The caller checks that the lots hold at least `amount_micro`.
    """
    taken: Lots = []
    index = 0
    left = amount_micro
    while left > 0:
        day, amount = lots[index], lots[index + 1]
        if amount <= left:
            taken += (day, amount)
            left -= amount
            index += 2
        else:
            taken += (day, left)
            return [day, amount - left, *lots[index + 2 :]], taken
    return lots[index:], taken


def merge_lots(lots: Lots, incoming: Lots) -> Lots:
    """The lots of both, same days merged, days ascending (one pass over both)."""
    if not incoming:
        return list(lots)
    if not lots:
        return list(incoming)
    if len(incoming) == 2 and incoming[0] == lots[-2]:  # the common case: today's lot
        return [*lots[:-1], lots[-1] + incoming[1]]
    merged: Lots = []
    i = j = 0
    while i < len(lots) and j < len(incoming):
        day_a, day_b = lots[i], incoming[j]
        if day_a == day_b:
            merged += (day_a, lots[i + 1] + incoming[j + 1])
            i += 2
            j += 2
        elif day_a < day_b:
            merged += (day_a, lots[i + 1])
            i += 2
        else:
            merged += (day_b, incoming[j + 1])
            j += 2
    merged += lots[i:]
    merged += incoming[j:]
    return merged


def raise_to(lots: Lots, first_live: int) -> Lots:
    """The lots with every day older than `first_live` moved up to it (same-day lots merged).

    For units paid out of a trust account (escrow, clearing, grid): they were live when
    locked, so they arrive live, dated to the oldest live day (expiring at the end of
    today) rather than dead on arrival.
    """
    _, older = split_expired(lots, first_live)
    if not older:
        return lots
    return merge_lots([first_live, older], split_expired(lots, first_live)[0])


def lots_read(lots: Lots, lifetime_days: int) -> list[Lot]:
    """The lots as `Lot`s with their issue and expiry times (seconds)."""
    return [
        Lot(
            lots[i] * DAY_SECONDS,
            (lots[i] + lifetime_days) * DAY_SECONDS,
            lots[i + 1],
        )
        for i in range(0, len(lots), 2)
    ]


def well_formed(lots: Lots) -> bool:
    """Days strictly ascending, amounts positive, pairs complete (what the contract keeps)."""
    if len(lots) % 2:
        return False
    days = lots[0::2]
    return all(a < b for a, b in itertools.pairwise(days)) and all(
        amount > 0 for amount in lots[1::2]
    )
