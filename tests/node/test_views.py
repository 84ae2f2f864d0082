"""The node's views: replies that mirror contract records keep the records' field names,
and a view's refusal carries the status, slug and values the API answers with."""

from __future__ import annotations

import msgspec
import pytest

from gridledger.client.correction_replies import CorrectionReply
from gridledger.client.market_replies import (
    DayAheadOrderReply,
    DepthLevelReply,
    MarketParametersReply,
    OfferReply,
    OrderReply,
    PriceReply,
    SettlementSummaryReply,
    StatementReply,
    TradeReply,
)
from gridledger.client.replies import MemberReply
from gridledger.contracts.corrections import Correction
from gridledger.contracts.market_day_ahead_state import StoredDayAheadOrder
from gridledger.contracts.market_parameters import MarketParameters
from gridledger.contracts.market_state import DepthLevel, Offer, StoredOrder, Trade
from gridledger.contracts.membership import Member
from gridledger.contracts.pricing import PostedPrice
from gridledger.contracts.settlement import PeriodSettlement, Statement
from gridledger.node import Node
from gridledger.node.errors import InvalidAddress, InvalidQuery, NotFound, NotSettled
from gridledger.node.market_views import book_view, order_view, price_view, statement_view
from gridledger.node.refusals import node_error_body
from gridledger.node.views import block_view, member_view
from tests.community import address, make_genesis

MIRRORS = [
    (StoredOrder, OrderReply, ["filled_wh"]),
    (Trade, TradeReply, []),
    (DepthLevel, DepthLevelReply, []),
    (Offer, OfferReply, []),
    (Statement, StatementReply, []),
    (PeriodSettlement, SettlementSummaryReply, []),
    (MarketParameters, MarketParametersReply, []),
    (PostedPrice, PriceReply, ["window", "now_s", "phase"]),
    (Member, MemberReply, []),
    (StoredDayAheadOrder, DayAheadOrderReply, ["sealed"]),
    (Correction, CorrectionReply, []),
]


def names(struct: type[msgspec.Struct]) -> list[str]:
    return [field.name for field in msgspec.structs.fields(struct)]


@pytest.mark.parametrize(("record", "reply", "added"), MIRRORS)
def test_a_reply_mirrors_its_contract_record(
    record: type[msgspec.Struct], reply: type[msgspec.Struct], added: list[str]
) -> None:
    assert names(reply) == names(record) + added


@pytest.fixture(scope="module")
def node() -> Node:
    return Node.in_memory(make_genesis())


def test_refusals_carry_their_values(node: Node) -> None:
    cases = [
        (lambda: book_view(node, -1), InvalidQuery, 400, "invalid_request", {"field": "period"}),
        (lambda: order_view(node, ""), InvalidQuery, 400, "invalid_request", {"field": "order_id"}),
        (lambda: member_view(node, "nobody"), InvalidAddress, 400, "invalid_address", {}),
        (lambda: block_view(node, 99), NotFound, 404, "not_found", {"kind": "block"}),
        (lambda: price_view(node, 7), NotFound, 404, "not_found", {"kind": "price", "period": 7}),
        (
            lambda: statement_view(node, 7, address("alice")),
            NotSettled,
            404,
            "not_settled",
            {"period": 7},
        ),
    ]
    for ask, kind, status, slug, values in cases:
        with pytest.raises(kind) as raised:
            ask()
        error = raised.value
        assert (error.status, error.error) == (status, slug)
        body = node_error_body(error)
        assert body["error"] == slug and body["message"] == str(error)
        assert values.items() <= body.items(), body
