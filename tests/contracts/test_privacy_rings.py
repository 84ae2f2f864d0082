"""Ring-signed calls on a real chain: secret ballots (one per member per proposal, counted
without naming the voter) and anonymous bilateral offers (the seller named only to the
buyer it agrees with), with each refusal's own code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.client.privacy import seller_proof
from gridledger.contracts.governance import (
    SecretVoteArgs,
    ballot_event,
    proposals,
    read_proposal,
)
from gridledger.contracts.market_bilateral import (
    AnonymousOfferArgs,
    agreement_message,
    offers_event,
    offers_for_period,
)
from gridledger.contracts.market_state import trades_for_period
from gridledger.contracts.privacy_errors import InvalidRingSignature
from gridledger.crypto.privacy import generate_stealth_keys, public_key_of, random_scalar
from gridledger.ledger import Receipt, ResultCode, decode_transaction
from tests.community import (
    CHAIN_ID,
    NEXT_PERIOD,
    Community,
    address,
    commit_at,
    gate_closure_s,
    key,
    make_genesis,
)
from tests.contracts.privacy_helpers import (
    commit_one,
    forged_ring_raw,
    register,
    ring_raw,
    spend_key_hex,
)

MEMBERS = ("regulator", "operator", "alice", "bob", "carol", "dave")
VOTE = ("governance", "vote_secretly")
OFFER = ("market", "publish_offer_anonymously")


@pytest.fixture
def community() -> Community:
    community = Community.create(make_genesis(parameters={"governance": {"founding_until_ms": 0}}))
    for name in MEMBERS:
        assert register(community, name).ok
    return community


def secret_proposal(community: Community) -> int:
    deadline_ms = community.head.timestamp_ms + 600_000
    args = {"kind": "motion", "text": "paint the substation", "deadline_ms": deadline_ms}
    receipt = community.run("alice", "governance", "propose", {**args, "secret": True})
    assert receipt.ok, receipt.message
    return proposals(community.state)[-1].proposal_id


def ballot(
    community: Community, voter: str, proposal_id: int, choice: str, ring: list[str] | None = None
) -> Receipt:
    ring = [spend_key_hex(n) for n in MEMBERS] if ring is None else ring
    args = {"proposal_id": proposal_id, "choice": choice, "ring": ring}
    return commit_one(
        community, ring_raw(VOTE, args, SecretVoteArgs, voter, ballot_event(proposal_id))
    )


def test_a_secret_vote_counts_one_ballot_per_member_without_naming_it(
    community: Community,
) -> None:
    proposal_id = secret_proposal(community)
    choices = {"alice": "yes", "bob": "yes", "carol": "no", "dave": "yes"}
    receipts = [ballot(community, voter, proposal_id, c) for voter, c in choices.items()]
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    proposal = read_proposal(community.state, proposal_id)
    assert proposal is not None and (proposal.yes, proposal.no) == (3, 1)
    for block in community.blocks[-4:]:
        text = repr(decode_transaction(block.transactions[0]))
        assert not any(address(n) in text for n in MEMBERS)
    for receipt in receipts:
        assert not any(address(n) in repr(receipt) for n in MEMBERS)


def test_a_second_ballot_by_the_same_member_is_refused(community: Community) -> None:
    proposal_id = secret_proposal(community)
    assert ballot(community, "bob", proposal_id, "yes").ok
    again = ballot(community, "bob", proposal_id, "no", [spend_key_hex(n) for n in MEMBERS[2:]])
    assert again.code == ResultCode.KEY_IMAGE_USED
    proposal = read_proposal(community.state, proposal_id)
    assert proposal is not None and (proposal.yes, proposal.no) == (1, 0)


def test_the_same_member_votes_in_two_proposals(community: Community) -> None:
    first, second = secret_proposal(community), secret_proposal(community)
    assert ballot(community, "carol", first, "yes").ok
    assert ballot(community, "carol", second, "yes").ok


def test_open_and_secret_ballots_do_not_mix(community: Community) -> None:
    secret = secret_proposal(community)
    open_vote = community.run("bob", "governance", "vote", {"proposal_id": secret, "choice": "yes"})
    assert open_vote.code == ResultCode.WRONG_BALLOT_KIND
    deadline_ms = community.head.timestamp_ms + 600_000
    proposed = community.run(
        "alice", "governance", "propose", {"kind": "motion", "deadline_ms": deadline_ms}
    )
    assert proposed.ok
    plain = proposals(community.state)[-1].proposal_id
    assert ballot(community, "bob", plain, "yes").code == ResultCode.WRONG_BALLOT_KIND


def unsigned_call(call: tuple[str, str], args: dict[str, Any]) -> bytes:
    """A call from a fresh throwaway key whose ring signature is 97 zero bytes: for rings
    refused before any signature is checked."""
    from gridledger.crypto.keys import generate_keypair
    from gridledger.ledger import encode_transaction, make_transaction

    signed = {**args, "ring_signature": "00" * 97}
    return encode_transaction(make_transaction(generate_keypair(), CHAIN_ID, 0, *call, signed))


def test_hostile_rings_are_refused_each_with_its_code(community: Community) -> None:
    proposal_id = secret_proposal(community)
    keys = [spend_key_hex(n) for n in MEMBERS]
    randoms = [public_key_of(random_scalar()).hex() for _ in range(16)]
    cases: list[tuple[list[str], int]] = [
        ([keys[2]], ResultCode.RING_SIZE_OUT_OF_RANGE),
        ([keys[2], *randoms], ResultCode.RING_SIZE_OUT_OF_RANGE),
        ([keys[2], keys[3], keys[3]], ResultCode.RING_KEY_DUPLICATED),
        ([keys[2], randoms[0]], ResultCode.RING_MEMBER_NOT_ELIGIBLE),
        ([keys[2], "02" + "00" * 32], ResultCode.INVALID_PRIVACY_KEY),
        ([keys[2], "0x"], ResultCode.NOT_HEX),
        (keys[:3], ResultCode.INVALID_RING_SIGNATURE),
    ]
    for ring, code in cases:
        args = {"proposal_id": proposal_id, "choice": "yes", "ring": ring}
        assert commit_one(community, unsigned_call(VOTE, args)).code == code, (ring, code)
    # a non-member signs over a ring of itself and members
    stranger = generate_stealth_keys()
    ring = [keys[2], stranger.address().spend_public_key.hex()]
    outsider = forged_ring_raw(
        VOTE,
        {"proposal_id": proposal_id, "choice": "yes", "ring": ring},
        SecretVoteArgs,
        stranger,
        ballot_event(proposal_id),
    )
    assert commit_one(community, outsider).code == ResultCode.RING_MEMBER_NOT_ELIGIBLE
    proposal = read_proposal(community.state, proposal_id)
    assert proposal is not None and proposal.yes == 0


def test_a_revoked_member_in_the_ring_is_refused(community: Community) -> None:
    proposal_id = secret_proposal(community)
    revoked = community.run(
        "regulator", "membership", "revoke", {"address": address("dave"), "reason": "moved"}
    )
    assert revoked.ok, revoked.message
    ring = [spend_key_hex(n) for n in ("alice", "bob", "dave")]
    receipt = ballot(community, "alice", proposal_id, "yes", ring)
    assert receipt.code == ResultCode.RING_MEMBER_NOT_ELIGIBLE
    assert "revoked" in receipt.message


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_flipped_byte_of_a_ring_signature_is_refused(data: st.DataObject) -> None:
    community = _SHARED
    ring = [spend_key_hex(n) for n in MEMBERS[:4]]
    args = {"proposal_id": 0, "choice": "yes", "ring": ring}
    position = data.draw(st.integers(min_value=0, max_value=33 + 32 * 5 - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))

    def flip(signature: bytes) -> bytes:
        return (
            signature[:position]
            + bytes([signature[position] ^ (1 << bit)])
            + signature[position + 1 :]
        )

    from tests.contracts.privacy_helpers import stealth

    raw = forged_ring_raw(VOTE, args, SecretVoteArgs, stealth("alice"), ballot_event(0), flip)
    signed = decode_transaction(raw)
    with pytest.raises(InvalidRingSignature):
        community.registry.admit(
            community.state,
            signed.transaction.sender.hex(),
            signed.transaction.sender,
            (*VOTE, signed.transaction.args),
        )
    honest = forged_ring_raw(VOTE, args, SecretVoteArgs, stealth("alice"), ballot_event(0))
    body = decode_transaction(honest).transaction
    community.registry.admit(community.state, "x", body.sender, (*VOTE, body.args))


def _shared_community() -> Community:
    community = Community.create(make_genesis(parameters={"governance": {"founding_until_ms": 0}}))
    for name in MEMBERS:
        assert register(community, name).ok
    secret_proposal(community)
    return community


_SHARED = _shared_community()


# -- anonymous offers (seed 001 MakeOffer without naming the seller) ---------------------

P = NEXT_PERIOD + 2
GATE = gate_closure_s(P)
COMMIT = GATE - 300
OPENS = COMMIT - 55 * 60


def anonymous_offer(community: Community, seller: str, ring_names: tuple[str, ...]) -> Receipt:
    args: dict[str, Any] = {
        "energy_wh": 1000,
        "price_micro_per_kwh": 820_000,
        "period": P,
        "production_cost_micro_per_kwh": 780_000,
        "ring": [spend_key_hex(n) for n in ring_names],
    }
    raw = ring_raw(OFFER, args, AnonymousOfferArgs, seller, offers_event(P))
    [receipt] = commit_at(community, OPENS + 10, [raw])
    return receipt


def agree_args(offer_id: str, seller: str, prover: str, agreement_id: str) -> dict[str, Any]:
    message = agreement_message(CHAIN_ID, offer_id, agreement_id, address("carol"), 500, 800_000)
    return {
        "offer_id": offer_id,
        "agreement_id": agreement_id,
        "energy_wh": 500,
        "price_micro_per_kwh": 800_000,
        "seller_signature": key(seller).sign(message).hex(),
        "seller": address(seller),
        "seller_proof": seller_proof(key(prover), message, P),
    }


def test_an_anonymous_offer_names_its_seller_only_to_its_buyer(community: Community) -> None:
    receipt = anonymous_offer(community, "alice", ("alice", "bob"))
    assert receipt.ok, receipt.message
    [offer] = offers_for_period(community.state, P)
    assert offer.seller == ""
    assert address("alice") not in repr(receipt)
    false_claim = agree_args(offer.offer_id, "bob", "bob", "a0")
    [claimed] = commit_at(
        community, COMMIT + 1, [community.tx("carol", "market", "agree", false_claim)]
    )
    assert claimed.code == ResultCode.INVALID_SELLER_PROOF
    [agreed] = commit_at(
        community,
        COMMIT + 2,
        [
            community.tx(
                "carol", "market", "agree", agree_args(offer.offer_id, "alice", "alice", "a1")
            )
        ],
    )
    assert agreed.ok, agreed.message
    [trade] = trades_for_period(community.state, P)
    assert (trade.seller, trade.buyer) == (address("alice"), address("carol"))


def test_a_proof_made_for_another_agreement_is_refused(community: Community) -> None:
    assert anonymous_offer(community, "alice", ("alice", "bob")).ok
    [offer] = offers_for_period(community.state, P)
    args = agree_args(offer.offer_id, "alice", "alice", "a1")
    args["agreement_id"] = "a2"
    message = agreement_message(CHAIN_ID, offer.offer_id, "a2", address("carol"), 500, 800_000)
    args["seller_signature"] = key("alice").sign(message).hex()
    [receipt] = commit_at(community, COMMIT + 1, [community.tx("carol", "market", "agree", args)])
    assert receipt.code == ResultCode.INVALID_SELLER_PROOF


def test_one_anonymous_offer_per_member_per_period(community: Community) -> None:
    assert anonymous_offer(community, "alice", ("alice", "bob")).ok
    assert anonymous_offer(community, "alice", ("bob", "alice")).code == ResultCode.KEY_IMAGE_USED
    assert anonymous_offer(community, "bob", ("alice", "bob")).ok


def test_a_ring_with_a_member_who_does_not_sell_is_refused(community: Community) -> None:
    receipt = anonymous_offer(community, "alice", ("alice", "carol"))
    assert receipt.code == ResultCode.RING_MEMBER_NOT_ELIGIBLE
    assert "does not sell" in receipt.message


def test_a_secret_vote_is_tallied_like_an_open_one(community: Community) -> None:
    proposal_id = secret_proposal(community)
    for voter in ("alice", "bob", "carol", "dave"):
        assert ballot(community, voter, proposal_id, "yes").ok
    proposal = read_proposal(community.state, proposal_id)
    assert proposal is not None
    community.commit([], proposal.deadline_ms)
    counted = community.run("bob", "governance", "tally", {"proposal_id": proposal_id})
    assert counted.ok, counted.message
    decided = read_proposal(community.state, proposal_id)
    assert decided is not None and decided.status == "passed"
    assert decided.tally is not None and decided.tally.yes == 4
    late = ballot(community, "operator", proposal_id, "no")
    assert late.code == ResultCode.VOTING_CLOSED


def test_malformed_ring_calls_are_refused_at_admission(community: Community) -> None:
    from gridledger.ledger import InvalidArguments

    proposal_id = secret_proposal(community)
    sender = key("throwaway")
    for args in (
        {"proposal_id": proposal_id, "choice": "yes", "ring": "not a list", "ring_signature": ""},
        {"proposal_id": proposal_id, "choice": "yes"},
        {"energy_wh": 1, "ring": [], "ring_signature": "", "surprise": 1},
    ):
        for call in (VOTE, OFFER):
            with pytest.raises(InvalidArguments):
                community.registry.admit(
                    community.state, sender.address, sender.public_key, (*call, args)
                )


WITHDRAW = ("market", "withdraw_offer_anonymously")


def withdrawal(community: Community, signer: str, offer_id: str, ring: tuple[str, ...]) -> Receipt:
    from gridledger.contracts.market_bilateral import AnonymousWithdrawArgs

    args = {"offer_id": offer_id, "ring": [spend_key_hex(n) for n in ring]}
    raw = ring_raw(WITHDRAW, args, AnonymousWithdrawArgs, signer, offers_event(P))
    [receipt] = commit_at(community, OPENS + 20, [raw])
    return receipt


def test_only_the_author_withdraws_an_anonymous_offer_still_unnamed(
    community: Community,
) -> None:
    assert anonymous_offer(community, "alice", ("alice", "bob")).ok
    [offer] = offers_for_period(community.state, P)
    other = withdrawal(community, "bob", offer.offer_id, ("alice", "bob"))
    assert other.code == ResultCode.NOT_OFFER_OWNER
    assert withdrawal(community, "alice", offer.offer_id, ("bob", "alice")).ok
    [offer] = offers_for_period(community.state, P)
    assert (offer.status, offer.seller) == ("withdrawn", "")
    again = withdrawal(community, "alice", offer.offer_id, ("bob", "alice"))
    assert again.code == ResultCode.OFFER_NOT_OPEN
    unknown = withdrawal(community, "alice", f"{P}-o7", ("bob", "alice"))
    assert unknown.code == ResultCode.UNKNOWN_OFFER
    named = community.run("alice", "market", "withdraw_offer", {"offer_id": offer.offer_id})
    assert named.code == ResultCode.NOT_OFFER_OWNER
