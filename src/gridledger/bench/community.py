"""The bench's senders: a temporary funded community, or the key files of a running one,
and every transaction (a transfer, or an order of the ``orders`` workload) signed before
the clock starts."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nacl.bindings

from gridledger.bench.orders import order_args
from gridledger.bench.settings import AMOUNT_MICRO, OPENING_BALANCE, SIGN_CHUNK, BenchError
from gridledger.client.signing import RequestSigner
from gridledger.crypto import KeyPair, generate_keypair
from gridledger.ledger import (
    ENCODING_VERSION,
    Ed25519Authorization,
    Genesis,
    SignedTransaction,
    Transaction,
    encode,
    signing_bytes,
)
from gridledger.node.community import Founder, founding_genesis, write_community
from gridledger.node.keystore import (
    KeyFileError,
    NotAKeyFile,
    PassphraseSource,
    key_info,
    read_key,
)

# -- signing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    keys: KeyPair
    first_nonce: int
    recipient: str
    """Who its transfers go to (the transfer workload)."""
    side: str = "buy"
    """The side of its orders (the orders workload)."""


def _sign_chunk(
    chain_id: str,
    seeds: list[tuple[bytes, bytes, str, str]],
    jobs: list[tuple[int, int, int]],
    period: int | None = None,
) -> list[bytes]:
    """Canonical bytes of `jobs` = [(sender index, nonce, index in the run)] (runs in a worker).

    Transfers, or with `period` orders for that period (`orders.order_args`).
    """
    secret = [seed + public for seed, public, _, _ in seeds]
    raws: list[bytes] = []
    for sender, nonce, index in jobs:
        _, public, recipient, side = seeds[sender]
        if period is None:
            contract, method = "tokens", "transfer"
            args: dict[str, Any] = {"to": recipient, "amount_micro": AMOUNT_MICRO}
        else:
            contract, method = "market", "place_order"
            args = order_args(index, side, period)
        body = Transaction(
            version=ENCODING_VERSION,
            chain_id=chain_id,
            sender=public,
            nonce=nonce,
            contract=contract,
            method=method,
            args=args,
        )
        signature = nacl.bindings.crypto_sign(signing_bytes(body), secret[sender])[:64]
        raws.append(encode(SignedTransaction(body, Ed25519Authorization(signature))))
    return raws


def schedule(senders: int, total: int) -> list[int]:
    """Sender index of each transaction in send order: round robin over the senders."""
    return [i % senders for i in range(total)]


def sign_all(
    chain_id: str, senders: list[Sender], total: int, period: int | None = None
) -> list[bytes]:
    """Sign `total` transactions, round robin over `senders`, each sender's nonces in order.

    Transfers, or with `period` the orders workload's orders for that period.
    """
    seeds = [(s.keys.seed, s.keys.public_key, s.recipient, s.side) for s in senders]
    order = schedule(len(senders), total)
    jobs = [
        (sender, senders[sender].first_nonce + i // len(senders), i)
        for i, sender in enumerate(order)
    ]
    chunks = [jobs[i : i + SIGN_CHUNK] for i in range(0, len(jobs), SIGN_CHUNK)]
    if len(chunks) <= 1:
        return _sign_chunk(chain_id, seeds, jobs, period)
    workers = max(1, min(len(chunks), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        count = len(chunks)
        parts = pool.map(_sign_chunk, [chain_id] * count, [seeds] * count, chunks, [period] * count)
        return [raw for part in parts for raw in part]


# -- the node under test ---------------------------------------------------------------------


def write_bench_community(
    directory: Path,
    accounts: int,
    chain_id: str = "gridledger-bench",
    market: dict[str, Any] | None = None,
    lifetime_days: int = 0,
) -> tuple[Genesis, list[KeyPair]]:
    """Write a community of a regulator, an operator and `accounts` funded prosumers
    (``account-00000`` ...) into `directory`; return its genesis and the accounts' keys.

    `market`: market parameters for the genesis (the orders workload's); `lifetime_days`:
    the currency's lifetime (seed 004 §3.4; 0, the default, is a plain currency).
    """
    if accounts < 2:
        raise BenchError(f"--accounts must be at least 2, got {accounts}")
    founders = [
        Founder("regulator", "regulator", generate_keypair()),
        Founder("operator", "operator", generate_keypair()),
        *(
            Founder(f"account-{i:05d}", "prosumer", generate_keypair(), OPENING_BALANCE)
            for i in range(accounts)
        ),
    ]
    tokens: dict[str, Any] = {"issuer_roles": ["operator"]}
    if lifetime_days:
        tokens["lifetime_days"] = lifetime_days
    parameters = {
        "tokens": tokens,
        **({"market": market} if market else {}),
    }
    genesis = founding_genesis(chain_id, time.time_ns() // 1_000_000, founders, parameters)
    write_community(directory, genesis, founders)
    return genesis, [founder.keys for founder in founders[2:]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TRADING_ROLES = ("consumer", "producer", "prosumer", "storage")


def reader_of_directory(
    url: str, directory: Path, passphrase: PassphraseSource | None = None
) -> KeyPair:
    """The key the bench signs its reads with (a node answers only its members): the
    regulator's or the operator's key file if `directory/keys` holds one (an auditor reads
    the whole block stream as it is, at no extra cost to the node), else any member's.
    Encrypted key files are opened with `passphrase`; files that cannot be are passed over."""
    for name in ("regulator", "operator"):
        with contextlib.suppress(KeyFileError):
            keys = read_key(directory / "keys" / f"{name}.key", passphrase)
            with httpx.Client(timeout=30.0, auth=RequestSigner(keys)) as http:
                member = http.get(f"{url}/v1/members/{keys.address}")
            if member.status_code == 200 and member.json()["status"] == "active":
                return keys
    for path in sorted((directory / "keys").glob("*.key")):
        with contextlib.suppress(KeyFileError):
            keys = read_key(path, passphrase)
            with httpx.Client(timeout=30.0, auth=RequestSigner(keys)) as http:
                if http.get(f"{url}/v1/members").status_code == 200:
                    return keys
    raise BenchError(f"{directory / 'keys'} holds no member's key: the node answers members only")


def senders_of_directory(
    url: str,
    directory: Path,
    accounts: int,
    total: int,
    need_micro: int = AMOUNT_MICRO,
    passphrase: PassphraseSource | None = None,
    reader: KeyPair | None = None,
) -> list[Sender]:
    """Active, funded members whose key files are in `directory/keys`, with their nonces.

    Each needs `need_micro` per transaction (a transfer's amount, or for the orders
    workload the most a buy escrows; only members of a trading role place orders,
    consumers buying and the others alternating sides). Files that are not key files
    are passed over; only the keys chosen to send are opened (encrypted ones with
    `passphrase`).
    """
    orders = need_micro != AMOUNT_MICRO
    key_files = sorted((directory / "keys").glob("*.key"))
    if not key_files:
        raise BenchError(f"no key files in {directory / 'keys'}; --url needs the community --dir")
    keys: dict[str, Path] = {}
    try:
        for path in key_files:
            with contextlib.suppress(NotAKeyFile):
                keys[key_info(path).address] = path
    except KeyFileError as error:
        raise BenchError(str(error)) from error
    reader = reader or reader_of_directory(url, directory, passphrase)
    with httpx.Client(timeout=30.0, auth=RequestSigner(reader)) as http:
        response = http.get(url + "/v1/members")
        response.raise_for_status()
        members = [m for m in response.json()["members"] if m["status"] == "active"]
        active = sorted(m["address"] for m in members)
        roles = {m["address"]: m["role"] for m in members}
        funded: list[tuple[Path, int, int]] = []
        for address in active:
            if address not in keys or (orders and roles[address] not in TRADING_ROLES):
                continue
            answer = http.get(f"{url}/v1/accounts/{address}")
            if answer.status_code == 403:  # the reader is a household: the account's own key
                try:
                    own = RequestSigner(read_key(keys[address], passphrase))
                except KeyFileError as error:
                    raise BenchError(str(error)) from error
                answer = http.get(f"{url}/v1/accounts/{address}", auth=own)
            account = answer.json()
            if account["balance_micro"] > 0:
                funded.append((keys[address], account["nonce"], account["balance_micro"]))
    if len(active) < 2 or not funded:
        raise BenchError(
            f"{directory / 'keys'} holds no key of an active member with funds "
            "(and the bench needs at least two active members)"
        )
    funded = funded[:accounts]
    per_sender = -(-total // len(funded))
    poor = [
        key_info(path).address for path, _, balance in funded if balance < per_sender * need_micro
    ]
    if poor:
        raise BenchError(
            f"members {', '.join(poor)} lack {per_sender * need_micro} micro-units for the run"
        )
    senders: list[Sender] = []
    for path, nonce, _ in funded:
        try:
            pair = read_key(path, passphrase)
        except KeyFileError as error:
            raise BenchError(str(error)) from error
        others = [a for a in active if a != pair.address]
        side = "buy" if roles[pair.address] == "consumer" or len(senders) % 2 == 0 else "sell"
        senders.append(Sender(pair, nonce, others[len(senders) % len(others)], side))
    return senders
