"""The ledger, written like a specification: transactions, blocks, state, the state transition.

The state and the state transition (`state`, `execution`) load numpy; they are imported on
first use (PEP 562), so a client that only signs transactions and reads block headers does
not pay for them.
"""

from typing import TYPE_CHECKING

from gridledger.ledger.blocks import (
    Block,
    BlockHeader,
    Event,
    Receipt,
    block_hash,
    decode_block,
    encode_block,
    encode_receipt,
    receipt_proof,
    results_root,
    transaction_proof,
    transactions_root,
)
from gridledger.ledger.encoding import (
    ENCODING_VERSION,
    MAX_ARGUMENT_DEPTH,
    MAX_BLOCK_BYTES,
    MAX_TRANSACTION_BYTES,
    decode,
    encode,
)
from gridledger.ledger.errors import (
    BadSignature,
    BlockError,
    ContractRejected,
    DecodingError,
    DuplicateTransaction,
    EnvelopeError,
    GenesisError,
    InsufficientFunds,
    InvalidArguments,
    InvalidBlock,
    InvalidSenderKey,
    LedgerError,
    MalformedTransaction,
    NonceMismatch,
    NotAMember,
    NotAuthorised,
    OneTimeCallRefused,
    OversizedBlock,
    OversizedTransaction,
    TooDeeplyNested,
    TransactionError,
    UnknownContract,
    UnknownMethod,
    UnsupportedVersion,
    WrongChain,
)
from gridledger.ledger.genesis import (
    MAX_REGISTRATION_FIELDS,
    ROLES,
    TECHNICAL_REGISTRATION_FIELDS,
    Genesis,
    GenesisMember,
    check_registration_fields,
    dump_genesis,
    genesis_hash,
    load_genesis,
    validate_genesis,
)
from gridledger.ledger.results import ResultCode
from gridledger.ledger.transactions import (
    ONE_TIME_CALLS,
    Ed25519Authorization,
    OneTimeAuthorization,
    SignedTransaction,
    Transaction,
    check_authorization,
    decode_checked_transaction,
    decode_transaction,
    encode_transaction,
    key_address,
    make_transaction,
    sender_address,
    sign_one_time,
    sign_transaction,
    signing_bytes,
    transaction_id,
    validate_transaction,
)

if TYPE_CHECKING:
    from gridledger.ledger.execution import (
        LEDGER_NAMESPACE,
        Context,
        Dispatcher,
        Execution,
        StateReader,
        apply_block,
        apply_transaction,
        build_block,
        commit_execution,
        execute_transactions,
        genesis_block,
        read_nonce,
        replay,
        validate_header,
    )
    from gridledger.ledger.state import LatticeHash, Overlay, State, StateKey, state_hash_of


def __getattr__(name: str) -> object:
    """The state and the state transition, imported on first use (they load numpy)."""
    import importlib

    if name in ("LatticeHash", "Overlay", "State", "StateKey", "state_hash_of"):
        module = "state"
    elif name in (
        "LEDGER_NAMESPACE", "Context", "Dispatcher", "Execution", "StateReader",
        "apply_block", "apply_transaction", "build_block", "commit_execution",
        "execute_transactions", "genesis_block", "read_nonce", "replay", "validate_header",
    ):  # fmt: skip
        module = "execution"
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ENCODING_VERSION",
    "LEDGER_NAMESPACE",
    "MAX_ARGUMENT_DEPTH",
    "MAX_BLOCK_BYTES",
    "MAX_REGISTRATION_FIELDS",
    "MAX_TRANSACTION_BYTES",
    "ONE_TIME_CALLS",
    "ROLES",
    "TECHNICAL_REGISTRATION_FIELDS",
    "BadSignature",
    "Block",
    "BlockError",
    "BlockHeader",
    "Context",
    "ContractRejected",
    "DecodingError",
    "Dispatcher",
    "DuplicateTransaction",
    "Ed25519Authorization",
    "EnvelopeError",
    "Event",
    "Execution",
    "Genesis",
    "GenesisError",
    "GenesisMember",
    "InsufficientFunds",
    "InvalidArguments",
    "InvalidBlock",
    "InvalidSenderKey",
    "LatticeHash",
    "LedgerError",
    "MalformedTransaction",
    "NonceMismatch",
    "NotAMember",
    "NotAuthorised",
    "OneTimeAuthorization",
    "OneTimeCallRefused",
    "Overlay",
    "OversizedBlock",
    "OversizedTransaction",
    "Receipt",
    "ResultCode",
    "SignedTransaction",
    "State",
    "StateKey",
    "StateReader",
    "TooDeeplyNested",
    "Transaction",
    "TransactionError",
    "UnknownContract",
    "UnknownMethod",
    "UnsupportedVersion",
    "WrongChain",
    "apply_block",
    "apply_transaction",
    "block_hash",
    "build_block",
    "check_authorization",
    "check_registration_fields",
    "commit_execution",
    "decode",
    "decode_block",
    "decode_checked_transaction",
    "decode_transaction",
    "dump_genesis",
    "encode",
    "encode_block",
    "encode_receipt",
    "encode_transaction",
    "execute_transactions",
    "genesis_block",
    "genesis_hash",
    "key_address",
    "load_genesis",
    "make_transaction",
    "read_nonce",
    "receipt_proof",
    "replay",
    "results_root",
    "sender_address",
    "sign_one_time",
    "sign_transaction",
    "signing_bytes",
    "state_hash_of",
    "transaction_id",
    "transaction_proof",
    "transactions_root",
    "validate_genesis",
    "validate_header",
    "validate_transaction",
]
