"""Replies held by column read back exactly as the dicts of their fields, types and all."""

from __future__ import annotations

import pytest

from gridledger.client.market_replies import StatementReply, TradeReply
from gridledger.simulation.outputs import named
from gridledger.simulation.reply_table import ReplyTable


def statement(member: str, paid_micro: int) -> StatementReply:
    fields = dict.fromkeys(StatementReply.__struct_fields__, 0)
    return StatementReply(
        **(fields | {"member": member, "period": 7, "reading": "metered", "paid_micro": paid_micro})
    )


def trade(index: int, clamped: bool, buy_time: int | None, value_micro: int) -> TradeReply:
    fields = dict.fromkeys(TradeReply.__struct_fields__, 0)
    return TradeReply(
        **(
            fields
            | {
                "trade_id": f"7-t{index}",
                "kind": "order",
                "buy_order_id": "7-1",
                "sell_order_id": "7-2",
                "buyer": "gl1",
                "seller": "gl2",
                "mechanism": "call_auction",
                "price_rule": "uniform",
                "reason": "",
                "clamped": clamped,
                "buy_order_time_s": buy_time,
                "value_micro": value_micro,
            }
        )
    )


def as_dict(reply: StatementReply | TradeReply) -> dict[str, object]:
    return {name: getattr(reply, name) for name in reply.__struct_fields__}


def test_rows_are_the_dicts_of_the_replies_in_order() -> None:
    replies = [statement("gl1", 5), statement("gl2", 2**40)]
    table = ReplyTable.of(StatementReply)
    table.extend(replies[:1])
    table.extend([])
    table.extend(replies[1:])
    assert len(table) == 2
    assert [dict(row) for row in table] == [as_dict(r) for r in replies]
    assert table[-1]["paid_micro"] == 2**40 and table[0] == as_dict(replies[0])
    assert [dict(r) for r in table[::-1]] == [as_dict(r) for r in reversed(replies)]
    assert {**table[1], "member_name": "b"}["member_name"] == "b"
    assert list(table.dicts()) == [as_dict(r) for r in replies]


def test_booleans_none_and_huge_numbers_keep_their_types() -> None:
    replies = [trade(0, False, 10, 1), trade(1, True, None, 2**70)]
    table = ReplyTable.of(TradeReply)
    table.extend(replies)
    rows = [dict(row) for row in table]
    assert rows == [as_dict(r) for r in replies] == list(table.dicts())
    assert rows[0]["clamped"] is False and rows[1]["clamped"] is True
    assert rows[1]["buy_order_time_s"] is None and rows[1]["value_micro"] == 2**70


def test_equal_strings_are_kept_once() -> None:
    table = ReplyTable.of(StatementReply)
    table.extend(statement("".join(["gl", "1"]), 1) for _ in range(3))
    members = [row["member"] for row in table]
    assert members == ["gl1"] * 3 and members[0] is members[1] is members[2]


def test_a_name_that_is_not_a_field_or_a_row_beyond_the_end_is_refused() -> None:
    table = ReplyTable.of(StatementReply)
    table.extend([statement("gl1", 1)])
    with pytest.raises(KeyError):
        table[0]["missing"]
    assert table[0].get("missing", "none") == "none"
    for index in (1, -2):
        with pytest.raises(IndexError):
            table[index]


def test_named_rows_of_a_table_are_those_of_its_dicts() -> None:
    table = ReplyTable.of(StatementReply)
    table.extend([statement("gl1", 1), statement("gl9", 2)])
    names = {"gl1": "a"}
    expected = [
        {**as_dict(r), "member_name": n}
        for r, n in zip([statement("gl1", 1), statement("gl9", 2)], ["a", ""], strict=True)
    ]
    assert list(named(table, names, member="member_name")) == expected
    assert list(named([dict(row) for row in table], names, member="member_name")) == expected
