"""The privacy reads: stealth outputs from a position, and members' public privacy keys,
as reply Structs (`gridledger.client.privacy_replies`)."""

from __future__ import annotations

from gridledger.client.privacy_replies import (
    MemberKeysReply,
    PrivacyKeysReply,
    StealthOutputReply,
    StealthOutputsReply,
)
from gridledger.contracts import membership, privacy
from gridledger.contracts.tokens import balance_of
from gridledger.ledger.execution import read_nonce
from gridledger.node.core import Node
from gridledger.node.errors import InvalidQuery

MAX_OUTPUTS = 10_000
"""Most outputs one read returns (a wallet pages through the rest)."""


def stealth_outputs_view(node: Node, start: int = 0, limit: int = 1_000) -> StealthOutputsReply:
    """Outputs numbered from `start`, at most `limit` (1 to `MAX_OUTPUTS`)."""
    if start < 0:
        raise InvalidQuery("start", start, "an output number is not negative")
    if not 0 < limit <= MAX_OUTPUTS:
        raise InvalidQuery("limit", limit, f"a limit lies in [1, {MAX_OUTPUTS}]")
    state = node.state
    outputs: list[StealthOutputReply] = []
    for record in privacy.outputs_from(state, start, limit):
        fields = dict(privacy.describe_output(record))
        account = fields["one_time_account"]
        balance, nonce = balance_of(state, account), read_nonce(state, account)
        outputs.append(StealthOutputReply(**fields, balance_micro=balance, nonce=nonce))
    return StealthOutputsReply(count=privacy.output_count(state), outputs=outputs)


def privacy_keys_view(node: Node) -> PrivacyKeysReply:
    """Every member's registered view and spend public keys, with its role and status."""
    state = node.state
    found: list[MemberKeysReply] = []
    for address in membership.roster(state):
        keys = privacy.keys_of(state, address)
        member = membership.read_member(state, address)
        if keys is None or member is None:
            continue
        found.append(
            MemberKeysReply(
                address=address,
                role=member.role,
                status=member.status,
                since_height=member.since_height,
                view_public_key=keys.view_public_key.hex(),
                spend_public_key=keys.spend_public_key.hex(),
            )
        )
    return PrivacyKeysReply(keys=found)
