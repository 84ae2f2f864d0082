"""Dual-key stealth addresses with one-byte view tags.

Sources: seed 001 eqs. (1)-(3) (P = F + S with F = Hash(rS)·G, and rS = rsG = Rs);
CryptoNote v2.0 (N. van Saberhagen, 2013), section "Unlinkable payments", and "Zero
to Monero" 2nd ed. (Koe, Alonso, Noether, 2020) ch. 4 for the dual-key form;
Monero's view tags (shipped in Monero v0.18, 2022) for the tag.

A member publishes a stealth address (A, B) = (a·G, b·G): a view key a and a
spend key b. Seed 001's single key S plays both roles; splitting them lets a
member hand its view key to a wallet that scans without being able to spend.

- The payer draws r, publishes the transaction key R = r·G and, for the output
  numbered i in its transaction, the one-time key P = H_s(r·A, i)·G + B.
- The recipient recomputes the shared point r·A = a·R (seed 001 eq. 3 with a in
  place of s), and P' = H_s(a·R, i)·G + B; the output is its own if P' = P.
- It spends with the one-time secret x = H_s(a·R, i) + b mod n, since x·G = P.

A reader of the chain sees unrelated one-time keys P; only a holder of a links
them to (A, B). The view tag is the first byte of a second hash of (a·R, i):
a scanner compares it before computing P', so 255 of 256 outputs that are not
its own cost one scalar multiplication and two hashes, not two multiplications
and a point addition. The tag leaks 8 bits about the shared secret, which keeps
128-bit security of P itself (Monero's analysis of view tags).

The shared point enters the hashes as its 33-byte compressed encoding.
secp256k1 has cofactor 1, so Monero's multiplication by 8 is not needed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from coincurve import PublicKey

from gridledger.crypto.privacy.errors import InvalidOutputIndex, NotOurOutput, WrongLength
from gridledger.crypto.privacy.group import (
    CURVE_ORDER,
    DOMAIN_PREFIX,
    SCALAR_LENGTH,
    add,
    base_mul,
    decode_point,
    encode_point,
    hash_to_scalar,
    mul,
    public_key_of,
    random_scalar,
)

VIEW_TAG_LENGTH = 1
"""Bytes in a view tag."""

MAX_OUTPUT_INDEX = 2**32 - 1
"""Output indexes are unsigned 32-bit integers (4 bytes big-endian in the hashes)."""

_VIEW_TAG_DOMAIN = DOMAIN_PREFIX + b"stealth-view-tag"


@dataclass(frozen=True, slots=True)
class StealthAddress:
    """What a member publishes: its view public key A and spend public key B (33 bytes each)."""

    view_public_key: bytes
    spend_public_key: bytes


@dataclass(frozen=True, slots=True)
class StealthKeys:
    """A member's secret view key a and spend key b (scalars in [1, n - 1])."""

    view_secret: int
    spend_secret: int

    def address(self) -> StealthAddress:
        """The public (A, B) of these keys."""
        return StealthAddress(public_key_of(self.view_secret), public_key_of(self.spend_secret))


@dataclass(frozen=True, slots=True)
class StealthOutput:
    """One payment as the chain shows it.

    `transaction_public_key` is R = r·G, `output_index` numbers the outputs that
    share R (0 to 2^32 - 1), `one_time_public_key` is P and `view_tag` its one-byte tag.
    """

    transaction_public_key: bytes
    output_index: int
    one_time_public_key: bytes
    view_tag: bytes


def generate_stealth_keys() -> StealthKeys:
    """Fresh random view and spend keys."""
    return StealthKeys(random_scalar(), random_scalar())


def derive_stealth_keys(seed: bytes) -> StealthKeys:
    """View and spend keys derived from a member's 32-byte key seed (its Ed25519 seed).

    One secret to keep: the member's key file. Each key is `hash_to_scalar` of the seed
    under its own domain, so the two are independent and neither reveals the seed or
    the Ed25519 key (SHA-256 modelled as a random oracle). A view-only wallet is given
    the view secret alone.
    """
    if len(seed) != SCALAR_LENGTH:
        raise WrongLength("key seed", SCALAR_LENGTH, len(seed))
    return StealthKeys(
        hash_to_scalar("wallet-view-key", seed), hash_to_scalar("wallet-spend-key", seed)
    )


def _index_bytes(output_index: int) -> bytes:
    if not 0 <= output_index <= MAX_OUTPUT_INDEX:
        raise InvalidOutputIndex(output_index)
    return struct.pack(">I", output_index)


def _shared_scalar(shared_point: bytes, output_index: int) -> int:
    return hash_to_scalar("stealth-output", shared_point, _index_bytes(output_index))


def _view_tag(shared_point: bytes, output_index: int) -> bytes:
    digest = hashlib.sha256(_VIEW_TAG_DOMAIN + shared_point + _index_bytes(output_index))
    return digest.digest()[:VIEW_TAG_LENGTH]


def derive_output(
    address: StealthAddress, transaction_secret: int, output_index: int = 0
) -> StealthOutput:
    """The payer's side: the output paying `address`, from its transaction secret r.

    The payer publishes `R = r·G` (in the output) and must not reuse r for another
    transaction to the same recipient with the same output index.
    """
    view_public = decode_point(address.view_public_key)
    spend_public = decode_point(address.spend_public_key)
    shared_point = encode_point(mul(view_public, transaction_secret))
    one_time = add(base_mul(_shared_scalar(shared_point, output_index)), spend_public)
    return StealthOutput(
        transaction_public_key=public_key_of(transaction_secret),
        output_index=output_index,
        one_time_public_key=encode_point(one_time),
        view_tag=_view_tag(shared_point, output_index),
    )


def pay_to(address: StealthAddress, output_index: int = 0) -> StealthOutput:
    """`derive_output` with a fresh random transaction secret."""
    return derive_output(address, random_scalar(), output_index)


def scan(
    outputs: Iterable[StealthOutput], view_secret: int, spend_public_key: bytes
) -> list[StealthOutput]:
    """The recipient's side: the outputs, in order, whose one-time key is for (a, B).

    Needs only the view secret a and the spend public key B, so a view-only
    wallet can scan. Outputs sharing a transaction key cost one multiplication
    between them. An output with a malformed R is skipped, as it can pay nobody.
    """
    spend_public = decode_point(spend_public_key)
    view_bytes = view_secret.to_bytes(SCALAR_LENGTH, "big")
    shared_by_key: dict[bytes, bytes | None] = {}
    found: list[StealthOutput] = []
    for output in outputs:
        key = output.transaction_public_key
        shared_point = shared_by_key.get(key, b"")
        if shared_point == b"":
            try:
                shared_point = PublicKey(key).multiply(view_bytes).format(compressed=True)
            except ValueError:
                shared_point = None
            shared_by_key[key] = shared_point
        if shared_point is None or not 0 <= output.output_index <= MAX_OUTPUT_INDEX:
            continue
        if _view_tag(shared_point, output.output_index) != output.view_tag:
            continue
        scalar = _shared_scalar(shared_point, output.output_index)
        expected = add(base_mul(scalar), spend_public)
        if encode_point(expected) == output.one_time_public_key:
            found.append(output)
    return found


def one_time_secret(output: StealthOutput, keys: StealthKeys) -> int:
    """The secret x = H_s(a·R, i) + b mod n that signs for the output's one-time key P.

    Raises `NotOurOutput` if x·G is not P (the output is not for these keys).
    """
    if len(output.view_tag) != VIEW_TAG_LENGTH:
        raise WrongLength("view tag", VIEW_TAG_LENGTH, len(output.view_tag))
    transaction_public = decode_point(output.transaction_public_key)
    shared_point = encode_point(mul(transaction_public, keys.view_secret))
    secret = (_shared_scalar(shared_point, output.output_index) + keys.spend_secret) % CURVE_ORDER
    if secret == 0 or public_key_of(secret) != output.one_time_public_key:
        raise NotOurOutput(output.one_time_public_key)
    return secret
