"""The privacy contract's refusals (stealth payments, ring-signed calls): one class per rule,
each with its own result code."""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class PrivacyContractError(ContractError):
    """Base of the privacy contract's refusals."""


class InvalidPrivacyKey(PrivacyContractError):
    """A key, one-time key, transaction key or key image that is not a usable secp256k1 point,
    or a view tag or signature of the wrong shape."""

    code = ResultCode.INVALID_PRIVACY_KEY

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field} is not usable: {reason}")


class PrivacyKeyTaken(PrivacyContractError):
    """A spend key registered by another member (it is that member's ring key)."""

    code = ResultCode.PRIVACY_KEY_TAKEN

    def __init__(self, key_hex: str, owner: str) -> None:
        self.key_hex, self.owner = key_hex, owner
        super().__init__(f"key {key_hex} is already registered by {owner}")


class NoPrivacyKeys(PrivacyContractError):
    """The member has registered no view and spend keys (needed for stealth payouts)."""

    code = ResultCode.NO_PRIVACY_KEYS

    def __init__(self, member: str) -> None:
        self.member = member
        super().__init__(f"member {member} has registered no view and spend keys")


class UnknownOneTimeAccount(PrivacyContractError):
    """The sender of a spend is not a one-time account any stealth payment created."""

    code = ResultCode.UNKNOWN_ONE_TIME_ACCOUNT

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"{account} is not a one-time account of any stealth payment")


class RingSizeOutOfRange(PrivacyContractError):
    """A ring smaller than 2 keys (it would name its signer) or larger than the limit."""

    code = ResultCode.RING_SIZE_OUT_OF_RANGE

    def __init__(self, ring_size: int, minimum: int, maximum: int) -> None:
        self.ring_size, self.minimum, self.maximum = ring_size, minimum, maximum
        super().__init__(f"a ring of {ring_size} keys is outside [{minimum}, {maximum}]")


class RingKeyDuplicated(PrivacyContractError):
    """The same key twice in a ring (it would shrink the anonymity set it claims)."""

    code = ResultCode.RING_KEY_DUPLICATED

    def __init__(self, key_hex: str, first: int, second: int) -> None:
        self.key_hex, self.first, self.second = key_hex, first, second
        super().__init__(f"ring key {key_hex} appears at positions {first} and {second}")


class RingMemberNotEligible(PrivacyContractError):
    """A ring key that is no member's registered key, or whose member may not make this call
    (revoked, exited, pending, outside the electorate, without a selling role)."""

    code = ResultCode.RING_MEMBER_NOT_ELIGIBLE

    def __init__(self, key_hex: str, member: str, status: str) -> None:
        self.key_hex, self.member, self.status = key_hex, member, status
        who = member or "no member"
        super().__init__(f"ring key {key_hex} belongs to {who}, which is not eligible: {status}")


class InvalidRingSignature(PrivacyContractError):
    """A ring signature that is malformed or does not verify over its ring and message."""

    code = ResultCode.INVALID_RING_SIGNATURE

    def __init__(self, event: str, reason: str) -> None:
        self.event, self.reason = event, reason
        super().__init__(f"ring signature for event {event} does not verify: {reason}")


class KeyImageUsed(PrivacyContractError):
    """A second ring-signed call by the same member in the same event (same key image)."""

    code = ResultCode.KEY_IMAGE_USED

    def __init__(self, event: str, key_image_hex: str) -> None:
        self.event, self.key_image_hex = event, key_image_hex
        super().__init__(
            f"key image {key_image_hex} has already signed in event {event}: "
            "one ring-signed call per member per event"
        )


class InvalidSellerProof(PrivacyContractError):
    """A seller who claims an anonymous offer without proving its key made the offer's key
    image."""

    code = ResultCode.INVALID_SELLER_PROOF

    def __init__(self, offer_id: str, seller: str, reason: str) -> None:
        self.offer_id, self.seller, self.reason = offer_id, seller, reason
        super().__init__(f"{seller} has not proven it made anonymous offer {offer_id}: {reason}")
