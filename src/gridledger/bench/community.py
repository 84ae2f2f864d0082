"""The bench's senders: a temporary funded community, or the key files of a running one,
and every transfer signed before the clock starts."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import nacl.bindings

from gridledger.bench.settings import AMOUNT_MICRO, OPENING_BALANCE, SIGN_CHUNK, BenchError
from gridledger.crypto import KeyPair, generate_keypair
from gridledger.ledger import (
    ENCODING_VERSION,
    Ed25519Authorization,
    Genesis,
    GenesisMember,
    SignedTransaction,
    Transaction,
    encode,
    signing_bytes,
)

# -- signing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    keys: KeyPair
    first_nonce: int
    recipient: str


def _sign_chunk(
    chain_id: str, seeds: list[tuple[bytes, bytes, str]], jobs: list[tuple[int, int]]
) -> list[bytes]:
    """Canonical bytes of the transfers `jobs` = [(sender index, nonce)] (runs in a worker)."""
    secret = [seed + public for seed, public, _ in seeds]
    raws: list[bytes] = []
    for sender, nonce in jobs:
        _, public, recipient = seeds[sender]
        body = Transaction(
            version=ENCODING_VERSION,
            chain_id=chain_id,
            sender=public,
            nonce=nonce,
            contract="tokens",
            method="transfer",
            args={"to": recipient, "amount_micro": AMOUNT_MICRO},
        )
        signature = nacl.bindings.crypto_sign(signing_bytes(body), secret[sender])[:64]
        raws.append(encode(SignedTransaction(body, Ed25519Authorization(signature))))
    return raws


def schedule(senders: int, total: int) -> list[int]:
    """Sender index of each transaction in send order: round robin over the senders."""
    return [i % senders for i in range(total)]


def sign_all(chain_id: str, senders: list[Sender], total: int) -> list[bytes]:
    """Sign `total` transfers, round robin over `senders`, each sender's nonces in order."""
    seeds = [(s.keys.seed, s.keys.public_key, s.recipient) for s in senders]
    order = schedule(len(senders), total)
    jobs = [
        (sender, senders[sender].first_nonce + i // len(senders)) for i, sender in enumerate(order)
    ]
    chunks = [jobs[i : i + SIGN_CHUNK] for i in range(0, len(jobs), SIGN_CHUNK)]
    if len(chunks) <= 1:
        return _sign_chunk(chain_id, seeds, jobs)
    workers = max(1, min(len(chunks), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_sign_chunk, [chain_id] * len(chunks), [seeds] * len(chunks), chunks)
        return [raw for part in parts for raw in part]


# -- the node under test ---------------------------------------------------------------------


def bench_genesis(
    accounts: int, chain_id: str = "gridledger-bench"
) -> tuple[Genesis, list[KeyPair]]:
    """A community of a regulator, an operator and `accounts` funded prosumers."""
    if accounts < 2:
        raise BenchError(f"--accounts must be at least 2, got {accounts}")
    keys = [generate_keypair() for _ in range(accounts)]
    members = [
        GenesisMember(
            name="regulator", role="regulator", public_key=generate_keypair().public_key.hex()
        ),
        GenesisMember(
            name="operator", role="operator", public_key=generate_keypair().public_key.hex()
        ),
    ] + [
        GenesisMember(
            name=f"account-{i:05d}",
            role="prosumer",
            public_key=k.public_key.hex(),
            balance_micro=OPENING_BALANCE,
        )
        for i, k in enumerate(keys)
    ]
    genesis = Genesis(
        chain_id=chain_id,
        genesis_time_ms=time.time_ns() // 1_000_000,
        members=members,
        parameters={"tokens": {"issuer_roles": ["operator"]}},
    )
    return genesis, keys


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def senders_of_directory(url: str, directory: Path, accounts: int, total: int) -> list[Sender]:
    """Active, funded members whose key files are in `directory/keys`, with their nonces."""
    from gridledger.keystore import KeyFileError, read_key

    key_files = sorted((directory / "keys").glob("*.key"))
    if not key_files:
        raise BenchError(f"no key files in {directory / 'keys'}; --url needs the community --dir")
    keys: dict[str, KeyPair] = {}
    for path in key_files:
        with contextlib.suppress(KeyFileError):
            pair = read_key(path)
            keys[pair.address] = pair
    with httpx.Client(timeout=30.0) as http:
        response = http.get(url + "/v1/members")
        response.raise_for_status()
        active = sorted(m["address"] for m in response.json()["members"] if m["status"] == "active")
        funded: list[tuple[KeyPair, int, int]] = []
        for address in active:
            if address not in keys:
                continue
            account = http.get(f"{url}/v1/accounts/{address}").json()
            if account["balance_micro"] > 0:
                funded.append((keys[address], account["nonce"], account["balance_micro"]))
    if len(active) < 2 or not funded:
        raise BenchError(
            f"{directory / 'keys'} holds no key of an active member with funds "
            "(and the bench needs at least two active members)"
        )
    funded = funded[:accounts]
    per_sender = -(-total // len(funded))
    poor = [pair.address for pair, _, balance in funded if balance < per_sender * AMOUNT_MICRO]
    if poor:
        raise BenchError(f"members {', '.join(poor)} lack {per_sender} micro-units for the run")
    senders: list[Sender] = []
    for pair, nonce, _ in funded:
        others = [a for a in active if a != pair.address]
        senders.append(Sender(pair, nonce, others[len(senders) % len(others)]))
    return senders
