"""M-of-N multi-signature: co-signed transactions and the policies of policy accounts.

A transaction may be authorised by several Ed25519 signatures over the same signing
bytes (`MultisigAuthorization`, the ``"multisig"`` variant of `Authorization`), in one
of two ways, decided by the state:

- **A policy account** (the currency issuer, the grid account): the sender is a
  32-byte account key that is no Ed25519 key at all, ``SHA-256(POLICY_DOMAIN ‖ name)``
  (`policy_account_key`), and the state holds its `Policy` (a threshold M and N keys)
  under its address. The transaction is authorised when at least M distinct keys of
  the policy signed it and nobody else did: Bitcoin's M-of-N ``CHECKMULTISIG``
  (BIP 11) with the keys kept in state, as seed 002 §5.3's multi-signature wallets.
  The account is registered explicitly by name (in genesis, `parameters.policies`),
  not derived from its keys, so that changing the policy (``policies.set_policy``,
  authorised by the policy itself) keeps the account, its balance and its nonce.
- **A co-signed transaction** from an ordinary member: the sender has no policy, so
  the sender's own signature must be among them; the others are its co-signers'
  consent, which contracts read from `Context.signers` (a correction is signed by
  both parties and the regulator, seed 004 §2.3).

The checks are split as signature checks always are here (DESIGN.md): what needs no
state (`verify_cosignatures`: at most `MAX_SIGNATURES` signatures, no signer twice,
each key valid and each signature valid) runs in parallel before execution; what
needs the state (`check_signers`: the policy exists, every signer is in it, at least
M signed) runs at admission and again, the same way on every peer, in
`apply_transaction`. Either refusal is an envelope error: nothing changes, not even
the nonce.

State (namespace ``ledger``, beside the nonces): ``policy/<address>`` → `Policy`.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from gridledger.crypto import (
    InvalidPublicKey,
    address_of,
    is_valid_signature,
    sha256,
    validate_public_key,
)
from gridledger.ledger.encoding import decode
from gridledger.ledger.errors import (
    BadSignature,
    DuplicateSigner,
    InvalidSenderKey,
    SignerNotInPolicy,
    TooFewSignatures,
    TooManySignatures,
    UnknownPolicy,
)

POLICY_NAMESPACE = "ledger"
"""Policies live beside the nonces: the ledger, not a contract, checks them."""

POLICY_DOMAIN = b"gridledger/policy-account/v1\x00"
"""Prefix of a policy account's key: it can never be an Ed25519 key someone holds."""

MAX_POLICY_KEYS = 16
"""Most keys a policy may name (N): bounds the signatures a transaction carries."""

MAX_SIGNATURES = MAX_POLICY_KEYS
"""Most signatures one transaction may carry (each costs ~120 µs to verify)."""

MAX_POLICY_NAME = 32


class Cosignature(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One signer's Ed25519 signature over the transaction's signing bytes."""

    signer: bytes
    """The signer's 32-byte Ed25519 public key."""
    signature: bytes


class MultisigAuthorization(
    msgspec.Struct, frozen=True, array_like=True, tag="multisig", forbid_unknown_fields=True
):
    """Several signatures over the same signing bytes (see the module's docstring)."""

    signatures: list[Cosignature]


class Policy(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Who controls a policy account: `threshold` of the `keys` (sorted, distinct) must sign."""

    name: str
    threshold: int
    keys: list[bytes]


def policy_account_key(name: str) -> bytes:
    """The 32-byte sender key of the policy account called `name` (``"issuer"``, ``"grid"``)."""
    return sha256(POLICY_DOMAIN + name.encode())


def policy_address(name: str) -> str:
    """The address of the policy account called `name`."""
    return address_of(policy_account_key(name))


def policy_key(address: str) -> str:
    return f"policy/{address}"


PolicyProblem = tuple[str, str]
"""(rule, reason): the rule is one of ``name``, ``size``, ``threshold``, ``repeated_key``,
``key``, each refused with its own code by ``policies.set_policy``."""


def policy_problem(name: str, threshold: int, keys: list[bytes]) -> PolicyProblem | None:
    """Why (`name`, `threshold`, `keys`) is not a usable policy; None when it is.

    Refused: a name that is not 1-32 lower-case letters, digits or ``_`` (``name``); no
    keys or more than `MAX_POLICY_KEYS` (``size``); a threshold of 0 or above N
    (``threshold``); a key named twice (``repeated_key``); a key that is not a canonical
    Ed25519 point of prime order (``key``).
    """
    if not 1 <= len(name) <= MAX_POLICY_NAME or not all(
        c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name
    ):
        return (
            "name",
            f"name {name!r} must be 1 to {MAX_POLICY_NAME} lower-case letters, digits or _",
        )
    if not 1 <= len(keys) <= MAX_POLICY_KEYS:
        return "size", f"{len(keys)} keys; a policy names 1 to {MAX_POLICY_KEYS}"
    if not 1 <= threshold <= len(keys):
        return (
            "threshold",
            f"threshold {threshold} is outside [1, {len(keys)}] (the number of keys)",
        )
    if len(set(keys)) != len(keys):
        return "repeated_key", "a key is named twice"
    for key in keys:
        try:
            validate_public_key(key)
        except InvalidPublicKey as error:
            return "key", f"key {key.hex()} is not usable: {error.reason}"
    return None


def make_policy(name: str, threshold: int, keys: list[bytes]) -> Policy:
    """A policy with its keys sorted (the caller checked `policy_problem`)."""
    return Policy(name, threshold, sorted(keys))


class PolicyReader(Protocol):
    """Anything with ``get(namespace, key)``: a `State`, an `Overlay`."""

    def get(self, namespace: str, key: str) -> bytes | None: ...


def read_policy(state: PolicyReader, address: str) -> Policy | None:
    """The policy of the account at `address`, or None (an ordinary account)."""
    raw = state.get(POLICY_NAMESPACE, policy_key(address))
    return None if raw is None else decode(raw, Policy)


def verify_cosignatures(
    sender_address: str, message: bytes, authorization: MultisigAuthorization
) -> None:
    """The stateless checks of a multi-signature (see the module's docstring).

    Raises `TooFewSignatures` (none), `TooManySignatures`, `DuplicateSigner`,
    `InvalidSenderKey` (a signer's key) or `BadSignature` (naming the signer).
    """
    signatures = authorization.signatures
    if not signatures:
        raise TooFewSignatures(sender_address, 0, 1)
    if len(signatures) > MAX_SIGNATURES:
        raise TooManySignatures(sender_address, len(signatures), MAX_SIGNATURES)
    seen: set[bytes] = set()
    for cosignature in signatures:
        signer = cosignature.signer
        if signer in seen:
            raise DuplicateSigner(sender_address, address_of(signer))
        seen.add(signer)
        try:
            validate_public_key(signer)
        except InvalidPublicKey as error:
            raise InvalidSenderKey(signer.hex(), error.reason) from error
        if not is_valid_signature(signer, message, cosignature.signature):
            raise BadSignature(address_of(signer))


def check_signers(
    state: PolicyReader,
    sender_key: bytes,
    sender_address: str,
    authorization: MultisigAuthorization,
) -> tuple[str, ...]:
    """The stateful checks of a multi-signature; returns the signers' addresses, sorted.

    With a policy at the sender's address: every signer must be one of its keys
    (`SignerNotInPolicy`) and at least its threshold must have signed
    (`TooFewSignatures`). Without one, the sender itself must have signed
    (`UnknownPolicy` otherwise: a policy account nobody registered, or somebody
    else's transaction).
    """
    signers = [cosignature.signer for cosignature in authorization.signatures]
    policy = read_policy(state, sender_address)
    if policy is None:
        if sender_key not in signers:
            raise UnknownPolicy(sender_address)
    else:
        allowed = set(policy.keys)
        for signer in signers:
            if signer not in allowed:
                raise SignerNotInPolicy(sender_address, address_of(signer), policy.name)
        if len(signers) < policy.threshold:
            raise TooFewSignatures(sender_address, len(signers), policy.threshold)
    return tuple(sorted(address_of(signer) for signer in signers))
