"""The ledger's error tree.

Every error carries the values involved as attributes and states them in its
message, so a log line or an API response says what was wrong without a
debugger. Errors raised while executing a transaction are `TransactionError`s:
each has a stable `code` (a `ResultCode`) that is written into the
transaction's receipt, and `consumes_nonce` says whether the sender's nonce
still advances (see `gridledger.ledger.execution`).
"""

from __future__ import annotations

from typing import ClassVar

from gridledger.ledger.results import ResultCode

_UINT64_LIMIT = 2**64


class LedgerError(Exception):
    """Base of every error raised by `gridledger.ledger`."""


class TransactionError(LedgerError):
    """A transaction was refused. Subclasses set `code`."""

    code: ClassVar[ResultCode] = ResultCode.REJECTED
    consumes_nonce: ClassVar[bool] = True
    """Whether a transaction refused with this error still advances its sender's nonce.

    Envelope errors (encoding, signature, chain, nonce, membership) leave the
    nonce alone: the sender never validly spoke. Errors raised by a contract
    after that consume the nonce, as a reverted Ethereum transaction does, so
    a refused order cannot be replayed later when the conditions change.
    """

    @property
    def details(self) -> dict[str, int | str]:
        """The values the error carries, by attribute name: what its receipt records.

        Every public attribute holding an integer or text is a value (``expected``,
        ``got``, ``energy_wh``, ...); anything else stays out. An integer that
        MessagePack cannot hold (beyond 64 bits) is recorded as its decimal text, so
        the receipt can always be encoded, the same way on every peer.
        """
        values: dict[str, int | str] = {}
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(value, str):
                values[name] = str(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                number = int(value)
                values[name] = number if -(2**63) <= number < _UINT64_LIMIT else str(number)
        return values


class EnvelopeError(TransactionError):
    """A transaction failed a check of its envelope, before any contract ran."""

    consumes_nonce: ClassVar[bool] = False


class MalformedTransaction(EnvelopeError):
    code = ResultCode.MALFORMED

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed transaction: {reason}")


class UnsupportedVersion(EnvelopeError):
    code = ResultCode.UNSUPPORTED_VERSION

    def __init__(self, got: int, supported: int) -> None:
        self.got = got
        self.supported = supported
        super().__init__(f"encoding version {got} is not supported (this node speaks {supported})")


class OversizedTransaction(EnvelopeError):
    code = ResultCode.OVERSIZED

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(f"transaction is {size_bytes} bytes, the limit is {limit_bytes}")


class TooDeeplyNested(EnvelopeError):
    """Arguments nest arrays and maps deeper than the limit (refused before decoding)."""

    code = ResultCode.TOO_DEEPLY_NESTED

    def __init__(self, depth: int, limit: int) -> None:
        self.depth = depth
        self.limit = limit
        super().__init__(f"arguments nest {depth} levels of arrays and maps, the limit is {limit}")


class WrongChain(EnvelopeError):
    code = ResultCode.WRONG_CHAIN

    def __init__(self, expected: str, got: str) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"transaction is for chain {got!r}, this chain is {expected!r}")


class InvalidSenderKey(EnvelopeError):
    code = ResultCode.INVALID_SENDER_KEY

    def __init__(self, sender: str, reason: str) -> None:
        self.sender = sender
        self.reason = reason
        super().__init__(f"sender key {sender} is not usable: {reason}")


class BadSignature(EnvelopeError):
    code = ResultCode.BAD_SIGNATURE

    def __init__(self, sender: str) -> None:
        self.sender = sender
        super().__init__(f"signature does not verify for sender {sender}")


class UnknownPolicy(EnvelopeError):
    """A multi-signed transaction whose sender has no policy and did not sign it itself."""

    code = ResultCode.UNKNOWN_POLICY

    def __init__(self, sender: str) -> None:
        self.sender = sender
        super().__init__(
            f"{sender} has no multi-signature policy, and its own signature is not among "
            "the signatures"
        )


class SignerNotInPolicy(EnvelopeError):
    """A signature by a key the sender's policy does not name."""

    code = ResultCode.SIGNER_NOT_IN_POLICY

    def __init__(self, sender: str, signer: str, policy: str) -> None:
        self.sender, self.signer, self.policy = sender, signer, policy
        super().__init__(f"{signer} is not one of the keys of policy {policy!r} ({sender})")


class TooFewSignatures(EnvelopeError):
    """Fewer valid signatures than the policy's threshold (or none at all)."""

    code = ResultCode.TOO_FEW_SIGNATURES

    def __init__(self, sender: str, signatures: int, threshold: int) -> None:
        self.sender, self.signatures, self.threshold = sender, signatures, threshold
        super().__init__(f"{sender} needs {threshold} signatures, the transaction has {signatures}")


class DuplicateSigner(EnvelopeError):
    """One key signed a multi-signed transaction twice (it would count twice)."""

    code = ResultCode.DUPLICATE_SIGNER

    def __init__(self, sender: str, signer: str) -> None:
        self.sender, self.signer = sender, signer
        super().__init__(f"{signer} signs the transaction of {sender} more than once")


class TooManySignatures(EnvelopeError):
    """More signatures than any policy may need (each one costs a verification)."""

    code = ResultCode.TOO_MANY_SIGNATURES

    def __init__(self, sender: str, signatures: int, limit: int) -> None:
        self.sender, self.signatures, self.limit = sender, signatures, limit
        super().__init__(
            f"the transaction of {sender} has {signatures} signatures; at most {limit}"
        )


class OneTimeCallRefused(EnvelopeError):
    """A stealth one-time key called a method that is not open to one-time accounts."""

    code = ResultCode.ONE_TIME_CALL_REFUSED

    def __init__(self, sender: str, contract: str, method: str) -> None:
        self.sender = sender
        self.contract = contract
        self.method = method
        super().__init__(
            f"one-time account {sender} may not call {contract}.{method}: "
            "a one-time key only spends what was paid to it (privacy.spend)"
        )


class NonceMismatch(EnvelopeError):
    code = ResultCode.NONCE_MISMATCH

    def __init__(self, sender: str, expected: int, got: int) -> None:
        self.sender = sender
        self.expected = expected
        self.got = got
        hint = " (a replay?)" if got < expected else ""
        super().__init__(f"nonce {got} from {sender}, expected {expected}{hint}")


class DuplicateTransaction(EnvelopeError):
    code = ResultCode.DUPLICATE

    def __init__(self, transaction_id: str) -> None:
        self.transaction_id = transaction_id
        super().__init__(f"transaction {transaction_id} was already submitted")


class UnknownContract(EnvelopeError):
    code = ResultCode.UNKNOWN_CONTRACT

    def __init__(self, contract: str) -> None:
        self.contract = contract
        super().__init__(f"no contract named {contract!r}")


class UnknownMethod(EnvelopeError):
    code = ResultCode.UNKNOWN_METHOD

    def __init__(self, contract: str, method: str) -> None:
        self.contract = contract
        self.method = method
        super().__init__(f"contract {contract!r} has no method {method!r}")


class InvalidArguments(EnvelopeError):
    code = ResultCode.INVALID_ARGUMENTS

    def __init__(self, contract: str, method: str, reason: str) -> None:
        self.contract = contract
        self.method = method
        self.reason = reason
        super().__init__(f"bad arguments for {contract}.{method}: {reason}")


class NotAMember(EnvelopeError):
    code = ResultCode.NOT_A_MEMBER

    def __init__(self, address: str, status: str) -> None:
        self.address = address
        self.status = status
        super().__init__(f"{address} is not an active member (status: {status})")


class NotAuthorised(TransactionError):
    code = ResultCode.NOT_AUTHORISED

    def __init__(self, address: str, role: str, action: str) -> None:
        self.address = address
        self.role = role
        self.action = action
        super().__init__(f"{address} (role {role}) may not {action}")


class InsufficientFunds(TransactionError):
    code = ResultCode.INSUFFICIENT_FUNDS

    def __init__(self, address: str, balance_micro: int, required_micro: int) -> None:
        self.address = address
        self.balance_micro = balance_micro
        self.required_micro = required_micro
        super().__init__(f"{address} has {balance_micro} micro-units, needs {required_micro}")


class ContractRejected(TransactionError):
    """A contract refused the call for a reason without a code of its own.

    The shipped contracts raise typed errors instead (`gridledger.contracts.errors`);
    this stays for contracts outside the tree and for chains recorded before them.
    """

    code = ResultCode.REJECTED

    def __init__(self, contract: str, reason: str) -> None:
        self.contract = contract
        self.reason = reason
        super().__init__(f"{contract}: {reason}")


class BlockError(LedgerError):
    """A block does not follow from its parent and its transactions."""


class InvalidBlock(BlockError):
    def __init__(self, height: int, field: str, expected: str, got: str) -> None:
        self.height = height
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"block {height}: {field} is {got}, expected {expected}")


class OversizedBlock(BlockError):
    def __init__(self, height: int, size_bytes: int, limit_bytes: int) -> None:
        self.height = height
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(f"block {height} is {size_bytes} bytes, the limit is {limit_bytes}")


class GenesisError(LedgerError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"genesis field {field!r}: {reason}")


class DecodingError(LedgerError):
    """Bytes are not the canonical encoding of the expected type."""

    def __init__(self, type_name: str, reason: str) -> None:
        self.type_name = type_name
        self.reason = reason
        super().__init__(f"cannot decode {type_name}: {reason}")
