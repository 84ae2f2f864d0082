"""The outage probe's reading of a stream's cluster info (`has_quorum`): a leader that lost
its followers still reports them ``current`` for ~10 s while their ``active`` grows (seen on
a real 3-server cluster: both dead replicas ``current=True`` with ``active`` 0.6 s ... 9.9 s
after they were killed); they must not count, or the probe ends the outage at once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from nats.js.api import ClusterInfo, PeerInfo

from gridledger.node.nats_ordering import REPLICA_SILENCE_S, has_quorum

SECOND_NS = 1_000_000_000


def cluster(*replicas: tuple[bool, bool, int], leader: str | None = "n1") -> ClusterInfo:
    return ClusterInfo(
        leader=leader,
        replicas=[
            PeerInfo(name=f"n{i + 2}", current=current, offline=offline, active=active)
            for i, (current, offline, active) in enumerate(replicas)
        ],
    )


def test_followers_silent_for_seconds_are_not_a_quorum_though_flagged_current() -> None:
    stale = cluster((True, False, 5 * SECOND_NS), (True, False, 5 * SECOND_NS))
    assert not has_quorum(stale, 3)


def test_a_live_follower_heard_at_its_heartbeat_makes_a_quorum() -> None:
    assert has_quorum(cluster((True, False, 1_700_000_000), (True, False, 9 * SECOND_NS)), 3)
    assert has_quorum(cluster((True, False, 300_000_000), (True, False, 400_000_000)), 3)


def test_no_leader_or_no_cluster() -> None:
    assert not has_quorum(cluster((True, False, 0), (True, False, 0), leader=None), 3)
    assert has_quorum(None, 1)  # a single server, not clustered, that answered


replica = st.tuples(
    st.booleans(), st.booleans(), st.integers(min_value=0, max_value=60 * SECOND_NS)
)


@given(st.lists(replica, min_size=0, max_size=6), st.integers(min_value=1, max_value=7))
def test_quorum_is_the_leader_and_a_majority_heard_recently(
    replicas: list[tuple[bool, bool, int]], size: int
) -> None:
    live = sum(
        1
        for current, offline, active in replicas
        if current and not offline and active <= REPLICA_SILENCE_S * SECOND_NS
    )
    assert has_quorum(cluster(*replicas), size) == (1 + live > size // 2)
