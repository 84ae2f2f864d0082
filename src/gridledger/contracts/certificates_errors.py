"""The certificates contract's refusals (each with its result code and its values).

Energy outside its range is the shared `EnergyOutOfRange`, a claim's text out of
length the shared `TextLengthOutOfRange`, a recipient who is no active member the
shared `MemberNotActive`, a transfer to oneself the tokens contract's `SelfTransfer`.
"""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class CertificatesError(ContractError):
    """Base of the certificates contract's own refusals."""


class CertificatesDisabled(CertificatesError):
    """The community did not switch certificates on in genesis (``parameters.certificates``)."""

    code = ResultCode.CERTIFICATES_DISABLED

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(
            f"cannot {action}: this community issues no certificates "
            "(genesis parameters.certificates.enabled is false)"
        )


class UnknownCertificate(CertificatesError):
    """No certificate was issued for this producer in this period."""

    code = ResultCode.UNKNOWN_CERTIFICATE

    def __init__(self, period: int, producer: str) -> None:
        self.period, self.producer = period, producer
        super().__init__(f"no certificate was issued to {producer} for period {period}")


class CertificateShort(CertificatesError):
    """The holder holds fewer Wh of this certificate than it tries to move or retire."""

    code = ResultCode.CERTIFICATE_SHORT

    def __init__(
        self, holder: str, period: int, producer: str, held_wh: int, requested_wh: int
    ) -> None:
        self.holder, self.period, self.producer = holder, period, producer
        self.held_wh, self.requested_wh = held_wh, requested_wh
        super().__init__(
            f"{holder} holds {held_wh} Wh of the certificate of {producer} for period "
            f"{period}, not {requested_wh} Wh"
        )


class AlreadyCertified(CertificatesError):
    """A producer's energy of a period is certified once, never twice."""

    code = ResultCode.ALREADY_CERTIFIED

    def __init__(self, period: int, producer: str) -> None:
        self.period, self.producer = period, producer
        super().__init__(f"the energy {producer} delivered in period {period} is already certified")
