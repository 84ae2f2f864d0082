"""A small test community: named keys, a genesis document, and a chain to grow.

Every key comes from `keypair_from_name`, so the same name gives the same key in
every run. The community has a regulator, an operator, two prosumers and two
consumers with opening balances, and one meter bound to a prosumer at genesis.

    community = Community.create()
    block, execution = community.commit([community.tx("alice", "tokens", "transfer", {...})])

`Community.tx` signs with the sender's next nonce (the committed nonce plus the
transactions already signed for the next block), so several transactions of one
sender can go into one block; pass ``nonce=`` to override.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gridledger.contracts import Registry, default_registry
from gridledger.contracts.membership import Member, read_member
from gridledger.contracts.registration import SplitRegistration, application, is_personal
from gridledger.contracts.tokens import balance_of, total_supply
from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.crypto.disclosure import derived_salt
from gridledger.ledger import (
    ENCODING_VERSION,
    Block,
    BlockHeader,
    Execution,
    Genesis,
    GenesisMember,
    Receipt,
    State,
    Transaction,
    build_block,
    commit_execution,
    cosign_transaction,
    encode,
    encode_transaction,
    genesis_block,
    key_address,
    make_transaction,
    read_nonce,
    unsigned_multisig,
)
from gridledger.ledger.transactions import SIGNING_DOMAIN

CHAIN_ID = "gridledger-test"
GENESIS_TIME_MS = 1_700_000_000_000
BLOCK_INTERVAL_MS = 1_000
NAMESPACE = "gridledger-tests"
"""Key namespace for `keypair_from_name`, so test keys never equal demo keys."""

# name -> (role, opening balance in micro-units)
FOUNDERS: dict[str, tuple[str, int]] = {
    "regulator": ("regulator", 0),
    "operator": ("operator", 10_000_000),
    "alice": ("prosumer", 1_000_000),
    "bob": ("prosumer", 500_000),
    "carol": ("consumer", 2_000_000),
    "dave": ("consumer", 250_000),
}
OUTSIDERS = ("erin", "frank", "mallory")
"""Names with keys but no membership."""

GENESIS_METERS = {"alice": "alice-meter-1"}
"""Meter keys (by key name) bound to a founder at genesis."""

REGISTRATIONS: dict[str, dict[str, Any]] = {
    "consumer": {
        "customer_type": "resident",
        "basic_information": "Flat 3, 12 Grid Street",
        "credit_record": "good",
        "purpose": "household load",
    },
    "producer": {
        "generation_type": "solar",
        "basic_information": "Barn roof, Field Lane",
        "installed_capacity_w": 30_000,
        "credit_record": "good",
    },
    "prosumer": {
        "generation_type": "solar",
        "basic_information": "4 Grid Street",
        "installed_capacity_w": 5_000,
        "credit_record": "good",
    },
    "storage": {
        "basic_information": "Community battery, Depot",
        "storage_capacity_wh": 200_000,
        "credit_record": "good",
    },
}
"""A complete, valid registration for each role a household may apply for."""


def salts(name: str, registration: dict[str, Any]) -> dict[str, str]:
    """Reproducible salts for `name`'s personal fields (tests only: guessable)."""
    secret = f"{NAMESPACE}/{name}".encode()
    return {field: derived_salt(secret, field) for field in registration if is_personal(field)}


def application_of(
    name: str, role: str, registration: dict[str, Any] | None = None
) -> tuple[dict[str, Any], SplitRegistration]:
    """``membership.apply`` arguments for `name` (standard registration unless given), with
    its disclosures: technical fields in the clear, personal ones as digests."""
    data = REGISTRATIONS[role] if registration is None else registration
    return application(name, role, data, salts(name, data))


def key(name: str) -> KeyPair:
    """The reproducible test key pair called `name`."""
    return keypair_from_name(name, namespace=NAMESPACE)


def address(name: str) -> str:
    return key(name).address


def meter_key_hex(name: str) -> str:
    """Hex public key of the meter called `name`."""
    return key(name).public_key.hex()


def make_genesis(
    founders: dict[str, tuple[str, int]] | None = None,
    meters: dict[str, str] | None = None,
    parameters: dict[str, Any] | None = None,
    chain_id: str = CHAIN_ID,
) -> Genesis:
    """A genesis document for `founders` (default: `FOUNDERS`)."""
    founders = FOUNDERS if founders is None else founders
    meters = GENESIS_METERS if meters is None else meters
    members = [
        GenesisMember(
            name=name,
            role=role,
            public_key=key(name).public_key.hex(),
            balance_micro=balance,
            meter_keys=[meter_key_hex(meters[name])] if name in meters else [],
        )
        for name, (role, balance) in founders.items()
    ]
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=GENESIS_TIME_MS,
        members=members,
        parameters=dict(parameters or {}),
    )


def signed_raw(
    sender: str | KeyPair,
    nonce: int,
    contract: str,
    method: str,
    args: dict[str, Any] | None = None,
    chain_id: str = CHAIN_ID,
) -> bytes:
    """Canonical bytes of a transaction signed by `sender` (a key name or a key pair)."""
    keys = key(sender) if isinstance(sender, str) else sender
    return encode_transaction(make_transaction(keys, chain_id, nonce, contract, method, args))


def nested_raw(
    sender: str | KeyPair,
    depth: int,
    nonce: int = 0,
    contract: str = "membership",
    method: str = "apply",
    chain_id: str = CHAIN_ID,
) -> bytes:
    """A correctly signed transaction whose args nest `depth` levels of maps and arrays.

    ``args = {"x": [[...[]...]]}``: the args map is level 1, then `depth` - 1 arrays. The
    bytes are put together by hand, because msgspec's encoder recurses (and gives up at
    about 1,500 levels); they are the canonical encoding of that value.
    """
    keys = key(sender) if isinstance(sender, str) else sender
    fields = [1, chain_id, keys.public_key, nonce, contract, method]
    args = b"\x81\xa1x" + b"\x91" * (depth - 2) + b"\x90" if depth > 1 else b"\x80"
    body = b"\x97" + b"".join(encode(value) for value in fields) + args
    signature = keys.sign(SIGNING_DOMAIN + body)
    return b"\x92" + body + encode(["ed25519", signature])


def balances(state: State) -> dict[str, int]:
    """Every token account with a non-zero balance."""
    from gridledger.contracts.tokens import NAMESPACE as TOKENS

    prefix = "balance/"
    return {
        k.removeprefix(prefix): balance_of(state, k.removeprefix(prefix))
        for k in state.keys_with_prefix(TOKENS, prefix)
    }


@dataclass
class Community:
    """A genesis, the chain grown from it so far, and the live state."""

    genesis: Genesis
    registry: Registry
    state: State
    chain: list[Block]
    """Every block from block 0 (the genesis block) to the head."""
    _signed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, genesis: Genesis | None = None) -> Community:
        genesis = make_genesis() if genesis is None else genesis
        registry = default_registry()
        block0, state = genesis_block(genesis, registry)
        return cls(genesis, registry, state, [block0])

    @property
    def head(self) -> BlockHeader:
        return self.chain[-1].header

    @property
    def blocks(self) -> list[Block]:
        """The blocks after genesis, as `replay` takes them."""
        return self.chain[1:]

    def nonce(self, name: str) -> int:
        """The committed next nonce of `name`."""
        return read_nonce(self.state, address(name))

    def balance(self, name: str) -> int:
        """The committed token balance of the member called `name`."""
        return balance_of(self.state, address(name))

    def supply(self) -> int:
        return total_supply(self.state)

    def member(self, name: str) -> Member | None:
        return read_member(self.state, address(name))

    def tx(
        self,
        sender: str,
        contract: str,
        method: str,
        args: dict[str, Any] | None = None,
        nonce: int | None = None,
    ) -> bytes:
        """Sign a transaction from `sender`, by default with its next unused nonce."""
        if nonce is None:
            nonce = self.nonce(sender) + self._signed.get(sender, 0)
            self._signed[sender] = self._signed.get(sender, 0) + 1
        return signed_raw(sender, nonce, contract, method, args, self.genesis.chain_id)

    def multisig_tx(
        self,
        sender: str | bytes,
        signers: Sequence[str],
        call: tuple[str, str, dict[str, Any]],
        nonce: int | None = None,
    ) -> bytes:
        """A transaction from `sender` (a member's name, or a policy account's 32-byte key)
        signed by every key called in `signers`, with the sender's next nonce by default."""
        sender_key = key(sender).public_key if isinstance(sender, str) else sender
        label = sender if isinstance(sender, str) else sender.hex()
        if nonce is None:
            nonce = read_nonce(self.state, key_address(sender_key)) + self._signed.get(label, 0)
            self._signed[label] = self._signed.get(label, 0) + 1
        contract, method, args = call
        body = Transaction(
            ENCODING_VERSION, self.genesis.chain_id, sender_key, nonce, contract, method, args
        )
        signed = unsigned_multisig(body)
        for name in signers:
            signed = cosign_transaction(signed, key(name))
        return encode_transaction(signed)

    def build(
        self, raws: Sequence[bytes], timestamp_ms: int | None = None
    ) -> tuple[Block, Execution]:
        """Build the next block on the head without committing it."""
        if timestamp_ms is None:
            timestamp_ms = self.head.timestamp_ms + BLOCK_INTERVAL_MS
        return build_block(self.state, self.head, list(raws), timestamp_ms, self.registry)

    def commit(
        self, raws: Sequence[bytes], timestamp_ms: int | None = None
    ) -> tuple[Block, Execution]:
        """Build the next block from `raws`, commit it to the state and append it to the chain."""
        block, execution = self.build(raws, timestamp_ms)
        commit_execution(self.state, execution)
        self.chain.append(block)
        self._signed.clear()
        return block, execution

    def run(self, sender: str, contract: str, method: str, args: dict[str, Any]) -> Receipt:
        """Sign, commit in a block of its own, and return the receipt of one transaction."""
        _, execution = self.commit([self.tx(sender, contract, method, args)])
        return execution.receipts[0]

    def apply_as(self, name: str, role: str, registration: dict[str, Any] | None = None) -> Receipt:
        """`name` applies for `role` with the standard registration (personal fields as
        digests)."""
        arguments, _ = application_of(name, role, registration)
        return self.run(name, "membership", "apply", arguments)

    def admit(self, name: str, role: str = "consumer") -> None:
        """`name` applies and the regulator approves; fails the test if either is refused."""
        applied = self.apply_as(name, role)
        assert applied.ok, applied.message
        approved = self.run("regulator", "membership", "approve", {"address": address(name)})
        assert approved.ok, approved.message


# --- market and settlement helpers ------------------------------------------------------------

PERIOD_SECONDS = 3600
"""The default delivery period (market_parameters.MarketParameters)."""
GATE_CLOSURE_SECONDS = 300
METER_WINDOW_SECONDS = 900
GENESIS_PERIOD = GENESIS_TIME_MS // 1000 // PERIOD_SECONDS
"""The delivery period genesis falls in (472222: 1_699_999_200 s to 1_700_002_800 s)."""
NEXT_PERIOD = GENESIS_PERIOD + 1
"""The first period that starts after genesis: it starts at 1_700_002_800 s."""


def period_start_s(period: int) -> int:
    return period * PERIOD_SECONDS


def gate_closure_s(period: int) -> int:
    """The first second at which orders for `period` are refused (default parameters)."""
    return period_start_s(period) - GATE_CLOSURE_SECONDS


def meter_window_close_s(period: int) -> int:
    """The first second at which `period` can be settled (default parameters)."""
    return period_start_s(period + 1) + METER_WINDOW_SECONDS


def reading_args(
    meter: str,
    member: str,
    period: int,
    exported_wh: int,
    imported_wh: int,
    chain_id: str = CHAIN_ID,
) -> dict[str, Any]:
    """Arguments of `metering.record_reading`, signed by the meter key called `meter`."""
    from gridledger.contracts.metering import reading_message

    message = reading_message(chain_id, address(member), period, exported_wh, imported_wh)
    return {
        "member": address(member),
        "period": period,
        "exported_wh": exported_wh,
        "imported_wh": imported_wh,
        "meter_key": meter_key_hex(meter),
        "signature": key(meter).sign(message).hex(),
    }


def order_args(
    side: str, energy_wh: int, price_micro_per_kwh: int, period: int, expiry_s: int = 0
) -> dict[str, Any]:
    """Arguments of `market.place_order`."""
    args: dict[str, Any] = {
        "side": side,
        "energy_wh": energy_wh,
        "price_micro_per_kwh": price_micro_per_kwh,
        "period": period,
    }
    if expiry_s:
        args["expiry_s"] = expiry_s
    return args


def commit_at(community: Community, seconds: int, raws: Sequence[bytes]) -> list[Receipt]:
    """Commit `raws` in one block stamped `seconds` (since the epoch); return the receipts."""
    _, execution = community.commit(raws, seconds * 1000)
    return execution.receipts


def run_at(
    community: Community,
    seconds: int,
    sender: str,
    contract: str,
    method: str,
    args: dict[str, Any],
) -> Receipt:
    """Sign and commit one transaction in a block stamped `seconds`; return its receipt."""
    [receipt] = commit_at(community, seconds, [community.tx(sender, contract, method, args)])
    return receipt
