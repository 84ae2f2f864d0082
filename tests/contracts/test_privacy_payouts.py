"""Stealth payouts: a member who asked for them is paid each settled period into a fresh
one-time account that only its view key finds, for the net its statement shows; the
money still balances and a second node replays the same state."""

from __future__ import annotations

from gridledger.contracts import default_registry, privacy
from gridledger.contracts.settlement import read_statement
from gridledger.contracts.tokens import balance_of
from gridledger.crypto import address_of
from gridledger.crypto.privacy import StealthOutput, one_time_secret, scan
from gridledger.ledger import replay
from tests.community import Community, address, run_at
from tests.contracts.privacy_helpers import commit_one, one_time_raw, register, stealth
from tests.contracts.test_settlement import (
    GATE,
    SETTLE,
    T0,
    P,
    assert_conserved,
    place,
    read,
    setup_meters,
)


def settled_community(payouts: bool) -> Community:
    """alice sells 2000 Wh to carol and delivers 1500 (test_settlement's first case)."""
    community = Community.create()
    setup_meters(community)
    for name in ("alice", "bob", "carol"):
        assert register(community, name, payouts=payouts and name == "alice").ok
    place(community, T0, "carol", "buy", 2000, 830_000, P)
    place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    read(community, "alice-meter-1", "alice", 1500, 200)
    read(community, "carol-meter-1", "carol", 0, 2300)
    read(community, "bob-meter-1", "bob", 700, 0)
    receipt = run_at(community, SETTLE, "dave", "settlement", "settle", {"period": P})
    assert receipt.ok, receipt.message
    return community


def outputs(community: Community) -> list[StealthOutput]:
    return [
        StealthOutput(o.transaction_public_key, o.output_index, o.one_time_public_key, o.view_tag)
        for o in privacy.outputs_from(community.state, 0, 100)
    ]


def test_stealth_payouts_go_to_a_one_time_account_the_member_alone_finds() -> None:
    plain = settled_community(payouts=False)
    private = settled_community(payouts=True)
    statement = read_statement(private.state, P, address("alice"))
    assert statement is not None and statement.net_micro == 1_025_000
    # plain: alice's own account is paid; private: her own account stays where it was
    assert plain.balance("alice") == private.balance("alice") + statement.net_micro
    [record] = privacy.outputs_from(private.state, 0, 10)
    assert (record.kind, record.period, record.amount_micro) == ("payout", P, 1_025_000)
    account = address_of(record.one_time_public_key)
    assert balance_of(private.state, account) == statement.net_micro
    keys = stealth("alice")
    [found] = scan(outputs(private), keys.view_secret, keys.address().spend_public_key)
    assert found.one_time_public_key == record.one_time_public_key
    for other in ("bob", "carol"):
        theirs = stealth(other)
        assert scan(outputs(private), theirs.view_secret, theirs.address().spend_public_key) == []
    # everyone else is paid exactly as without stealth payouts
    for name in ("bob", "carol", "dave", "operator"):
        assert plain.balance(name) == private.balance(name)
    assert_conserved(private, private.supply())
    # alice spends her payout with the one-time key
    secret = one_time_secret(found, keys)
    args = {"amount_micro": 25_000, "to": address("bob")}
    spent = commit_one(private, one_time_raw(secret, record.one_time_public_key, 0, args))
    assert spent.ok, spent.message
    state, _ = replay(private.genesis, private.blocks, default_registry())
    assert state.state_hash() == private.state.state_hash()
