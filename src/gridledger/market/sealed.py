"""Sealed day-ahead orders: what a member commits to, proves and later reveals. Pure.

A sealed order hides its limit price and its energy until the day's gate behind two
Pedersen commitments (`gridledger.crypto.privacy.pedersen`, Pedersen CRYPTO '91),
each with a range proof (`gridledger.crypto.privacy.range_proof`: bit
decomposition with Cramer-Damgård-Schoenmakers OR-proofs):

- the price p in [feed_in, cap] (micro-units per kWh, the bounds of the period in
  force when the order is placed);
- the energy e in [1, max_energy_wh] (Wh), ``max_energy_wh`` stated in the clear:
  a buy escrows ``cap × max_energy_wh`` so that whatever it reveals is paid for.

The shift. A range proof shows that a committed v lies in [low, high] by proving
that v - low is a sum of weighted bits: the commitment to v - low is
C - low·G, computed by the verifier from C alone, so the member commits to the
true value and nobody commits to the shifted one. The weights are 1, 2, 4, …,
2^(k-2) and m - 2^(k-1) + 1 with m = high - low and k its bit length: their subset
sums are exactly [0, m], a sub-range of [0, 2^k). A plain [0, 2^k) proof on
v - low would also accept values up to low + 2^k - 1 > high, so the last weight
is what makes the upper bound exact (docs/privacy.md "Sealed bids").

Binding to the order. Each proof's Fiat-Shamir challenge hashes a context naming
the owner, the side, the period and the field (`proof_context`), so a proof
copied into another member's order, another side or period does not verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gridledger.crypto.privacy import (
    Opening,
    commit,
    encode_scalar,
    hash_to_scalar,
    prove_range,
)

__all__ = [
    "SealedOpening",
    "SealedOrder",
    "proof_context",
    "seal_order",
]

CONTEXT_DOMAIN = b"gridledger/sealed-day-ahead/v1"


def proof_context(owner: str, side: str, period: int, field: str) -> bytes:
    """The bytes bound into the range proof of ``field`` (``price`` or ``energy``)."""
    return b"|".join(
        [CONTEXT_DOMAIN, owner.encode(), side.encode(), str(period).encode(), field.encode()]
    )


@dataclass(frozen=True, slots=True)
class SealedOpening:
    """What the owner keeps until the reveal: the values and their blindings."""

    price_micro_per_kwh: int
    price_blinding: int
    energy_wh: int
    energy_blinding: int

    def reveal_args(self, order_id: str) -> dict[str, object]:
        """The arguments of ``market.reveal_day_ahead_order`` (blindings as 64 hex digits)."""
        return {
            "order_id": order_id,
            "price_micro_per_kwh": self.price_micro_per_kwh,
            "price_blinding": encode_scalar(self.price_blinding).hex(),
            "energy_wh": self.energy_wh,
            "energy_blinding": encode_scalar(self.energy_blinding).hex(),
        }


@dataclass(frozen=True, slots=True)
class SealedOrder:
    """The public part of a sealed order: commitments and proofs (bytes)."""

    side: str
    period: int
    max_energy_wh: int
    price_commitment: bytes
    price_proof: bytes
    energy_commitment: bytes
    energy_proof: bytes

    def place_args(self, all_or_none: bool = False) -> dict[str, object]:
        """The arguments of ``market.place_sealed_day_ahead_order`` (bytes as hex)."""
        args: dict[str, object] = {
            "side": self.side,
            "period": self.period,
            "max_energy_wh": self.max_energy_wh,
            "price_commitment": self.price_commitment.hex(),
            "price_proof": self.price_proof.hex(),
            "energy_commitment": self.energy_commitment.hex(),
            "energy_proof": self.energy_proof.hex(),
        }
        if all_or_none:
            args["all_or_none"] = True
        return args


def _sealed(
    value: int, low: int, high: int, context: bytes, seed: bytes | None
) -> tuple[bytes, bytes, Opening]:
    if seed is None:
        commitment, opening = commit(value)
        randomness = None
    else:
        blinding = hash_to_scalar("sealed-order-blinding", seed, context)
        commitment, opening = commit(value, blinding)
        randomness = hashlib.sha256(b"sealed-order-proof|" + seed + b"|" + context).digest()
    proof = prove_range(value, opening.blinding, low, high, context=context, randomness=randomness)
    return commitment, proof.encode(), opening


def seal_order(
    owner: str,
    side: str,
    period: int,
    price_micro_per_kwh: int,
    energy_wh: int,
    max_energy_wh: int,
    feed_in_price_micro_per_kwh: int,
    cap_price_micro_per_kwh: int,
    seed: bytes | None = None,
) -> tuple[SealedOrder, SealedOpening]:
    """Commit to a price and an energy with their range proofs.

    Without ``seed`` the blindings and the proofs' nonces are fresh random (what a
    member does: the CLI). With it they are derived from it (a simulation, whose
    chain must be the same on every run; whoever knows the seed can open the
    commitments, so a seed is for reproducible experiments only).
    Raises the privacy errors (`ValueOutOfRange`, `InvalidRange`) for values outside
    [feed_in, cap] or [1, max_energy_wh].
    """
    price_c, price_p, price_o = _sealed(
        price_micro_per_kwh,
        feed_in_price_micro_per_kwh,
        cap_price_micro_per_kwh,
        proof_context(owner, side, period, "price"),
        seed,
    )
    energy_c, energy_p, energy_o = _sealed(
        energy_wh, 1, max_energy_wh, proof_context(owner, side, period, "energy"), seed
    )
    order = SealedOrder(side, period, max_energy_wh, price_c, price_p, energy_c, energy_p)
    opening = SealedOpening(price_micro_per_kwh, price_o.blinding, energy_wh, energy_o.blinding)
    return order, opening
