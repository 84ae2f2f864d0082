"""Attestations and finality: peers sign what they committed and count who agrees.

After each commit a peer signs (chain id, height, block hash, state hash) with
its Ed25519 peer key and publishes it. The network configuration lists the
peers and their public keys; an attestation from any other key, or with a bad
signature, is ignored.

Agreement at a height implies agreement at every lower height, because a block
hash commits to its parent's. So for each listed peer it is enough to know the
highest height at which it attested exactly our block and state hash
(`PeerView.agreed_height`); a peer agrees with itself up to its head. The
finalized height is the highest height that more than two thirds of the listed
peers agree on: with n peers, the (2n // 3 + 1)-th highest agreed height.

A conflict is an attestation of a height we committed with a different block
or state hash. It sets the alarm, naming the peer, the height and both hashes.
The peer stops committing while any conflict lies above the finalized height:
if more than two thirds of the peers attest our block at that height the
dissenter is the odd one and we go on; if they attest another block, ours can
never become final there and we stay stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from gridledger.crypto import is_valid_signature
from gridledger.crypto.keys import KeyPair

ATTESTATION_DOMAIN = b"gridledger-attestation-v1"
PENDING_LIMIT = 4096
"""Attestations ahead of our head kept per peer, to check once we commit their height."""


class Attestation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A peer's signed statement of what it committed at one height."""

    chain_id: str
    height: int
    block_hash: bytes
    state_hash: bytes
    peer_key: bytes
    """The peer's Ed25519 public key (32 bytes)."""
    signature: bytes = b""


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A listed peer: its name, public key, and the URL of its API if it has one."""

    name: str
    public_key: bytes
    api_url: str | None = None


def attestation_signing_bytes(attestation: Attestation) -> bytes:
    unsigned = msgspec.structs.replace(attestation, signature=b"")
    return ATTESTATION_DOMAIN + msgspec.msgpack.encode(unsigned)


def sign_attestation(
    keys: KeyPair, chain_id: str, height: int, block_hash: bytes, state_hash: bytes
) -> Attestation:
    unsigned = Attestation(chain_id, height, block_hash, state_hash, keys.public_key)
    return msgspec.structs.replace(
        unsigned, signature=keys.sign(attestation_signing_bytes(unsigned))
    )


def encode_attestation(attestation: Attestation) -> bytes:
    return msgspec.msgpack.encode(attestation)


def decode_attestation(
    payload: bytes, wanted: Callable[[bytes], bool] | None = None
) -> Attestation | None:
    """The attestation in `payload`, or None if it does not decode or its signature is bad.

    With `wanted`, an attestation whose peer key it refuses is None too, without the cost
    of checking its signature (our own, read back from the log; a key not listed).
    """
    try:
        attestation = msgspec.msgpack.decode(payload, type=Attestation)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if wanted is not None and not wanted(attestation.peer_key):
        return None
    if len(attestation.peer_key) != 32 or not is_valid_signature(
        attestation.peer_key, attestation_signing_bytes(attestation), attestation.signature
    ):
        return None
    return attestation


def quorum(peer_count: int) -> int:
    """The least number of peers that is more than two thirds of `peer_count`."""
    return 2 * peer_count // 3 + 1


@dataclass
class PeerView:
    """What we know of one listed peer's attestations."""

    info: PeerInfo
    attested_height: int = -1
    """The highest height it has attested (whatever it said)."""
    agreed_height: int = -1
    """The highest height at which it attested our block and state hash."""
    conflict: str | None = None
    """Why it disagrees with us, if it ever did."""
    ahead: dict[int, Attestation] = field(default_factory=dict)
    """Its attestations of heights we have not committed yet."""


@dataclass(frozen=True, slots=True)
class Conflict:
    height: int
    peer: str
    message: str


class FinalityTracker:
    """Counts attestations from the listed peers against our own chain.

    `our_hashes(height)` gives our (block hash, state hash) at a committed height,
    or None above our head.
    """

    def __init__(
        self,
        chain_id: str,
        peers: Sequence[PeerInfo],
        me: bytes,
        our_hashes: Callable[[int], tuple[bytes, bytes] | None],
    ) -> None:
        self.chain_id = chain_id
        self.views = {info.public_key: PeerView(info) for info in peers}
        self.me = me
        self.our_hashes = our_hashes
        self.head_height = -1
        self.conflicts: list[Conflict] = []
        self.first_conflict: str | None = None

    def committed(self, height: int) -> None:
        """We committed `height`: we agree with ourselves, and check what others said of it."""
        self.head_height = max(self.head_height, height)
        mine = self.views.get(self.me)
        if mine is not None:
            mine.attested_height = max(mine.attested_height, height)
            mine.agreed_height = max(mine.agreed_height, height)
        for view in self.views.values():
            for ahead_height in sorted(h for h in view.ahead if h <= height):
                self._compare(view, view.ahead.pop(ahead_height))

    def receive(self, attestation: Attestation) -> None:
        """Take one (already signature-checked) attestation; ignore strangers and other chains."""
        view = self.views.get(attestation.peer_key)
        if view is None or attestation.chain_id != self.chain_id or attestation.peer_key == self.me:
            return
        view.attested_height = max(view.attested_height, attestation.height)
        if attestation.height > self.head_height:
            if len(view.ahead) < PENDING_LIMIT:
                view.ahead[attestation.height] = attestation
            return
        self._compare(view, attestation)

    def _compare(self, view: PeerView, attestation: Attestation) -> None:
        ours = self.our_hashes(attestation.height)
        if ours is None:
            return
        if (attestation.block_hash, attestation.state_hash) == ours:
            view.agreed_height = max(view.agreed_height, attestation.height)
            return
        message = (
            f"peer {view.info.name} attested block {attestation.height} as "
            f"{attestation.block_hash.hex()} with state {attestation.state_hash.hex()}; "
            f"ours is {ours[0].hex()} with state {ours[1].hex()}"
        )
        if view.conflict is None:
            view.conflict = message
        finalized = self.finalized_height  # settled conflicts need not be kept
        self.conflicts = [c for c in self.conflicts if c.height > finalized][-PENDING_LIMIT:]
        self.conflicts.append(Conflict(attestation.height, view.info.name, message))
        self.first_conflict = self.first_conflict or message

    @property
    def finalized_height(self) -> int:
        """The highest height more than two thirds of the listed peers agree on (-1: none)."""
        agreed = sorted((view.agreed_height for view in self.views.values()), reverse=True)
        needed = quorum(len(agreed))
        return agreed[needed - 1] if len(agreed) >= needed else -1

    @property
    def halted_by(self) -> Conflict | None:
        """The lowest conflict above the finalized height: while there is one, do not commit."""
        finalized = self.finalized_height
        open_conflicts = [c for c in self.conflicts if c.height > finalized]
        return min(open_conflicts, key=lambda c: c.height) if open_conflicts else None

    @property
    def alarm(self) -> str | None:
        halted = self.halted_by
        if halted is not None:
            return f"stopped committing at block {halted.height}: {halted.message}"
        return self.first_conflict

    def wants(self, peer_key: bytes) -> bool:
        """Whether an attestation by `peer_key` can tell us anything (a listed peer, not us)."""
        return peer_key in self.views and peer_key != self.me

    def peer_views(self) -> list[PeerView]:
        return list(self.views.values())
