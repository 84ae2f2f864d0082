"""The state transition: `apply_transaction`, `execute_block`, `apply_block`.

Order–execute: transactions arrive already ordered, and every peer executes
them in that order against the same state, so every peer reaches the same
state. Stateless checks (`validate_transaction`) need no state; a node may run
them in parallel beforehand and pass the outcomes in as ``prevalidated``.

What a transaction changes:

- an envelope error (encoding, signature, chain, nonce, not a member) changes
  nothing at all;
- a contract that refuses the call (a `TransactionError` raised by the
  contract) changes nothing but the sender's nonce; its receipt holds the
  error's code, message and values;
- a contract that crashes (any other exception) changes nothing but the
  sender's nonce either, and its receipt says CONTRACT_FAILED, so a bug is
  never mistaken for a rule;
- a successful call commits the contract's writes and advances the nonce.

Contracts are reached through a `Dispatcher`, so that this module does not
know which contracts exist (``gridledger.contracts`` provides the registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import msgspec

from gridledger.crypto.merkle import merkle_root
from gridledger.ledger.blocks import (
    Block,
    BlockHeader,
    Event,
    Receipt,
    block_hash,
    encode_receipt,
    transactions_root,
)
from gridledger.ledger.encoding import ENCODING_VERSION, MAX_BLOCK_BYTES, decode, encode
from gridledger.ledger.errors import (
    InvalidBlock,
    NonceMismatch,
    OversizedBlock,
    TransactionError,
)
from gridledger.ledger.genesis import Genesis, genesis_hash
from gridledger.ledger.multisig import MultisigAuthorization, check_signers
from gridledger.ledger.results import ResultCode
from gridledger.ledger.state import Overlay, State, StateKey
from gridledger.ledger.transactions import (
    Ed25519Authorization,
    SignedTransaction,
    key_address,
    transaction_id,
    validate_transaction,
)

LEDGER_NAMESPACE = "ledger"
T = TypeVar("T")


class StateReader(Protocol):
    def get(self, namespace: str, key: str) -> bytes | None: ...


class Context:
    """What a contract method sees: the caller, the block's time, and scoped state access."""

    __slots__ = (
        "chain_id",
        "events",
        "height",
        "overlay",
        "sender",
        "sender_key",
        "signers",
        "timestamp_ms",
        "transaction_id",
    )

    def __init__(
        self,
        overlay: Overlay,
        chain_id: str,
        height: int,
        timestamp_ms: int,
        sender_key: bytes,
        transaction_id: bytes,
        signers: tuple[str, ...] = (),
    ) -> None:
        self.overlay = overlay
        self.chain_id = chain_id
        self.height = height
        self.timestamp_ms = timestamp_ms
        self.sender_key = sender_key
        self.sender = key_address(sender_key) if sender_key else ""
        self.transaction_id = transaction_id
        self.signers = signers
        """Addresses of everyone who signed a multi-signed transaction (sorted); empty for
        an ordinary one, which only its sender signed."""
        self.events: list[Event] = []

    def signed_by(self, address: str) -> bool:
        """Whether `address` signed this transaction (its sender, or a co-signer)."""
        return address == self.sender or address in self.signers

    def get(self, namespace: str, key: str) -> bytes | None:
        return self.overlay.get(namespace, key)

    def read(self, namespace: str, key: str, type_: type[T]) -> T | None:
        """Decode the value at (namespace, key) as `type_`, or None when absent."""
        raw = self.overlay.get(namespace, key)
        return None if raw is None else decode(raw, type_)

    def write(self, namespace: str, key: str, value: Any) -> None:
        """Store the canonical encoding of `value` at (namespace, key)."""
        self.overlay.put(namespace, key, encode(value))

    def delete(self, namespace: str, key: str) -> None:
        self.overlay.delete(namespace, key)

    def emit(self, contract: str, event: str, /, **attributes: Any) -> None:
        """Report an event; it is written into the transaction's receipt."""
        self.events.append(Event(contract, event, attributes))


class Dispatcher(Protocol):
    """The contracts, as the ledger sees them."""

    def check_access(self, state: StateReader, sender: str, contract: str, method: str) -> None:
        """Raise `UnknownContract`, `UnknownMethod` or `NotAMember` if the call may not run."""

    def dispatch(self, context: Context, contract: str, method: str, args: dict[str, Any]) -> None:
        """Run the method; raise a `TransactionError` to refuse the call."""

    def apply_genesis(self, context: Context, genesis: Genesis) -> None:
        """Write every contract's initial state from the genesis document."""


def nonce_key(address: str) -> str:
    return f"nonce/{address}"


def read_nonce(state: StateReader, address: str) -> int:
    """The number of transactions `address` has had accepted (its next nonce)."""
    raw = state.get(LEDGER_NAMESPACE, nonce_key(address))
    return 0 if raw is None else msgspec.msgpack.decode(raw, type=int)


def multisig_signers(state: StateReader, signed: SignedTransaction, sender: str) -> tuple[str, ...]:
    """The checks of a transaction's authorisation that need the state; returns its signers.

    An Ed25519 signature needs none (empty: only the sender signed). A multi-signature
    must satisfy the sender's policy, or include the sender's own signature
    (`multisig.check_signers`); the signers' addresses are returned, sorted. The node
    runs this at admission, and every peer again in `apply_transaction`.
    """
    authorization = signed.authorization
    if type(authorization) is MultisigAuthorization:
        return check_signers(state, signed.transaction.sender, sender, authorization)
    return ()


def apply_transaction(
    block_overlay: Overlay,
    raw: bytes,
    header_fields: tuple[str, int, int],
    dispatcher: Dispatcher,
    prevalidated: SignedTransaction | TransactionError | None = None,
) -> Receipt:
    """Execute one raw transaction on top of `block_overlay` and return its receipt.

    `header_fields` is (chain id, height, timestamp in ms) of the block being built.
    """
    chain_id, height, timestamp_ms = header_fields
    tx_id = transaction_id(raw)
    try:
        if isinstance(prevalidated, TransactionError):
            raise prevalidated
        signed = prevalidated or validate_transaction(raw, chain_id)
        body = signed.transaction
        sender = key_address(body.sender)
        expected = read_nonce(block_overlay, sender)
        if body.nonce != expected:
            raise NonceMismatch(sender, expected=expected, got=body.nonce)
        signers = (
            ()  # the ordinary transaction: its one signature was checked without state
            if type(signed.authorization) is Ed25519Authorization
            else multisig_signers(block_overlay, signed, sender)
        )
        dispatcher.check_access(block_overlay, sender, body.contract, body.method)
    except TransactionError as error:
        return Receipt(tx_id, int(error.code), str(error), [], error.details)

    tx_overlay = Overlay(block_overlay)
    context = Context(tx_overlay, chain_id, height, timestamp_ms, body.sender, tx_id, signers)
    next_nonce = encode(expected + 1)
    try:
        dispatcher.dispatch(context, body.contract, body.method, body.args)
    except TransactionError as error:
        if error.consumes_nonce:
            block_overlay.put(LEDGER_NAMESPACE, nonce_key(sender), next_nonce)
        return Receipt(tx_id, int(error.code), str(error), [], error.details)
    except Exception as error:  # a contract bug: record it the same way on every peer
        block_overlay.put(LEDGER_NAMESPACE, nonce_key(sender), next_nonce)
        return contract_failed(tx_id, error)
    tx_overlay.put(LEDGER_NAMESPACE, nonce_key(sender), next_nonce)
    tx_overlay.merge_into_parent()
    return Receipt(tx_id, int(ResultCode.OK), "", context.events)


def contract_failed(tx_id: bytes, error: Exception) -> Receipt:
    """The receipt of a call whose contract crashed: CONTRACT_FAILED, never a refusal's code.

    Only the exception's type is recorded: its text may differ between Python
    versions and so between peers.
    """
    name = type(error).__name__
    message = f"contract failed: {name}"
    return Receipt(tx_id, int(ResultCode.CONTRACT_FAILED), message, [], {"exception": name})


@dataclass(frozen=True, slots=True)
class Execution:
    """The outcome of executing a list of transactions on a state."""

    receipts: list[Receipt]
    writes: dict[StateKey, bytes | None]
    state_hash: bytes
    receipt_bytes: list[bytes]
    """The canonical bytes of each receipt: the leaves of ``results_root``, and what is stored."""


def execute_transactions(
    state: State,
    chain_id: str,
    height: int,
    timestamp_ms: int,
    raw_transactions: Sequence[bytes],
    dispatcher: Dispatcher,
    prevalidated: Sequence[SignedTransaction | TransactionError | None] | None = None,
) -> Execution:
    """Execute `raw_transactions` in order on top of `state`, without changing it."""
    receipts, writes, receipt_bytes = run_transactions(
        state, (chain_id, height, timestamp_ms), raw_transactions, dispatcher, prevalidated
    )
    return Execution(receipts, writes, state.hash_after(writes), receipt_bytes)


def run_transactions(
    state: State,
    header_fields: tuple[str, int, int],
    raw_transactions: Sequence[bytes],
    dispatcher: Dispatcher,
    prevalidated: Sequence[SignedTransaction | TransactionError | None] | None = None,
) -> tuple[list[Receipt], dict[StateKey, bytes | None], list[bytes]]:
    """(receipts, writes, receipts' canonical bytes) of executing `raw_transactions` in
    order on top of `state` (not changed); `header_fields` as in `apply_transaction`."""
    overlay = Overlay(state)
    receipts = [
        apply_transaction(
            overlay, raw, header_fields, dispatcher, prevalidated[i] if prevalidated else None
        )
        for i, raw in enumerate(raw_transactions)
    ]
    return receipts, overlay.writes, [encode_receipt(receipt) for receipt in receipts]


def build_block(
    state: State,
    parent: BlockHeader,
    raw_transactions: Sequence[bytes],
    timestamp_ms: int,
    dispatcher: Dispatcher,
    prevalidated: Sequence[SignedTransaction | TransactionError | None] | None = None,
) -> tuple[Block, Execution]:
    """Execute the transactions on `state` and build the block that records them.

    `state` is not changed: commit with `commit_execution` once the block is stored.
    The timestamp never goes backwards: it is at least the parent's.
    """
    timestamp_ms = max(timestamp_ms, parent.timestamp_ms)
    height = parent.height + 1
    execution = execute_transactions(
        state, parent.chain_id, height, timestamp_ms, raw_transactions, dispatcher, prevalidated
    )
    header = BlockHeader(
        version=ENCODING_VERSION,
        chain_id=parent.chain_id,
        height=height,
        previous_hash=block_hash(parent),
        timestamp_ms=timestamp_ms,
        transaction_count=len(raw_transactions),
        # each receipt holds its transaction's id (SHA-256 of its bytes): no need to hash again
        transactions_root=merkle_root([receipt.transaction_id for receipt in execution.receipts]),
        results_root=merkle_root(execution.receipt_bytes),
        state_hash=execution.state_hash,
    )
    return Block(header, list(raw_transactions)), execution


def commit_execution(state: State, execution: Execution) -> None:
    """Merge an execution's writes into the state."""
    state.apply_writes(execution.writes)


def _expect(height: int, field: str, expected: Any, got: Any) -> None:
    if expected != got:
        show = (lambda v: v.hex()) if isinstance(expected, bytes) else str
        raise InvalidBlock(height, field, show(expected), show(got))


def validate_header(parent: BlockHeader, block: Block) -> None:
    """Every check of a block that needs no execution: linkage, time, counts, roots, size."""
    header = block.header
    height = header.height
    _expect(height, "version", ENCODING_VERSION, header.version)
    _expect(height, "chain_id", parent.chain_id, header.chain_id)
    _expect(height, "height", parent.height + 1, height)
    _expect(height, "previous_hash", block_hash(parent), header.previous_hash)
    if header.timestamp_ms < parent.timestamp_ms:
        raise InvalidBlock(
            height, "timestamp_ms", f">= {parent.timestamp_ms}", str(header.timestamp_ms)
        )
    _expect(height, "transaction_count", len(block.transactions), header.transaction_count)
    _expect(
        height, "transactions_root", transactions_root(block.transactions), header.transactions_root
    )
    size = len(encode(block))
    if size > MAX_BLOCK_BYTES:
        raise OversizedBlock(height, size, MAX_BLOCK_BYTES)


def apply_block(
    state: State,
    parent: BlockHeader,
    block: Block,
    dispatcher: Dispatcher,
    prevalidated: Sequence[SignedTransaction | TransactionError | None] | None = None,
) -> Execution:
    """Check `block` against its parent, execute it, check its results, and commit it to `state`.

    Raises `InvalidBlock` (and leaves `state` unchanged) if the block's header
    disagrees with the execution.
    """
    validate_header(parent, block)
    header = block.header
    execution = execute_transactions(
        state,
        header.chain_id,
        header.height,
        header.timestamp_ms,
        block.transactions,
        dispatcher,
        prevalidated,
    )
    results = merkle_root(execution.receipt_bytes)
    _expect(header.height, "results_root", results, header.results_root)
    check_state_hash(header, execution.state_hash)
    commit_execution(state, execution)
    return execution


@dataclass(frozen=True, slots=True)
class Replayed:
    """A block executed and committed by `replay_block`, its state hash still owed."""

    receipts: list[Receipt]
    receipt_bytes: list[bytes]
    added: list[bytes]
    """The `entry_bytes` the block added to the state (for its lane sums)."""
    removed: list[bytes]
    """The `entry_bytes` it removed."""


def replay_block(
    state: State,
    parent: BlockHeader,
    block: Block,
    dispatcher: Dispatcher,
    prevalidated: Sequence[SignedTransaction | TransactionError | None] | None = None,
) -> Replayed:
    """`apply_block` but for the state hash: check the block against its parent, execute
    it, check its results root, and commit it with `State.commit_unhashed`.

    The caller sums the lanes of the entries returned (elsewhere, while it replays the
    next blocks), settles them with `State.settle` in block order, and checks each
    hash with `check_state_hash`. Raises `InvalidBlock` (state unchanged) as
    `apply_block` does for everything but the state hash.
    """
    validate_header(parent, block)
    header = block.header
    fields = (header.chain_id, header.height, header.timestamp_ms)
    receipts, writes, receipt_bytes = run_transactions(
        state, fields, block.transactions, dispatcher, prevalidated
    )
    _expect(header.height, "results_root", merkle_root(receipt_bytes), header.results_root)
    added, removed = state.commit_unhashed(writes)
    return Replayed(receipts, receipt_bytes, added, removed)


def check_state_hash(header: BlockHeader, state_hash: bytes) -> None:
    """Raise `InvalidBlock` if the state hash a replay reached is not the header's."""
    _expect(header.height, "state_hash", state_hash, header.state_hash)


def genesis_block(genesis: Genesis, dispatcher: Dispatcher) -> tuple[Block, State]:
    """Build block 0 and the state it commits to from the genesis document."""
    state = State()
    overlay = Overlay(state)
    tx_overlay = Overlay(overlay)
    context = Context(tx_overlay, genesis.chain_id, 0, genesis.genesis_time_ms, b"", b"")
    dispatcher.apply_genesis(context, genesis)
    tx_overlay.merge_into_parent()
    state.apply_writes(overlay.writes)
    header = BlockHeader(
        version=ENCODING_VERSION,
        chain_id=genesis.chain_id,
        height=0,
        previous_hash=genesis_hash(genesis),
        timestamp_ms=genesis.genesis_time_ms,
        transaction_count=0,
        transactions_root=merkle_root([]),
        results_root=merkle_root([]),
        state_hash=state.state_hash(),
    )
    return Block(header, []), state


def replay(
    genesis: Genesis, blocks: Sequence[Block], dispatcher: Dispatcher
) -> tuple[State, BlockHeader]:
    """Re-execute a chain from genesis; raise `InvalidBlock` at the first block that disagrees."""
    block0, state = genesis_block(genesis, dispatcher)
    if blocks and blocks[0].header.height == 0:
        _expect(0, "genesis header", block_hash(block0.header), block_hash(blocks[0].header))
        blocks = blocks[1:]
    parent = block0.header
    for block in blocks:
        apply_block(state, parent, block, dispatcher)
        parent = block.header
    return state, parent
