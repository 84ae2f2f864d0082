"""The ordering network's own PKI: a local CA, TLS certificates, and NATS nkey credentials.

`gridledger network up` (one machine) and `gridledger network init` (several) make
them under the network directory:

- ``pki/ca.pem`` and ``pki/ca-key.pem``: a self-signed CA (ECDSA P-256, ten years).
  Its certificate is what every peer pins; its key only signs the others and need
  not leave the machine that ran ``init``;
- ``pki/<name>.pem`` and ``pki/<name>-key.pem``: a certificate per nats-server (and per
  peer API when it serves TLS), ECDSA P-256, valid for both server and client
  authentication (a route is a TLS client of the other server), with the names and
  addresses it is reached at as subject alternative names;
- ``creds/<name>.nk``: a NATS user nkey seed (Ed25519). The servers' configs hold only
  the public key (``U...``); the seed signs the server's nonce at connect.

ECDSA P-256 rather than Ed25519 for TLS: both Go's crypto/tls and every OpenSSL build
accept it, and its handshake costs a fraction of a millisecond, once per connection.
Every private key and seed is written 0600 and never overwritten.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nkeys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gridledger.node.errors import NodeError

CA_DAYS = 3650
CERTIFICATE_DAYS = 825
LOCAL_NAMES = ("localhost", "127.0.0.1")


class PkiError(NodeError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class CertificateFiles:
    cert_file: Path
    key_file: Path


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to a new file readable by its owner only (0600); never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise PkiError(str(path), "already exists; refusing to overwrite a key") from error
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return path


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_ca(directory: Path, common_name: str) -> CertificateFiles:
    """A new CA in `directory` (``ca.pem``, ``ca-key.pem``), or the one already there."""
    files = CertificateFiles(directory / "ca.pem", directory / "ca-key.pem")
    if files.cert_file.exists() and files.key_file.exists():
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.key_file, _private_key_pem(key))
    files.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files


def _load_ca(ca: CertificateFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        certificate = x509.load_pem_x509_certificate(ca.cert_file.read_bytes())
        key = serialization.load_pem_private_key(ca.key_file.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise PkiError(str(ca.cert_file), f"cannot read the CA ({error})") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(str(ca.key_file), "the CA key is not an ECDSA key")
    return certificate, key


def subject_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    """DNS names and IP addresses for `hosts` plus localhost and 127.0.0.1, each once."""
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys([*LOCAL_NAMES, *hosts]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue_certificate(
    ca: CertificateFiles, directory: Path, name: str, hosts: Sequence[str] = ()
) -> CertificateFiles:
    """A certificate for `name`, signed by `ca`, valid for `hosts` (and loopback).

    Returns the existing pair if ``<name>.pem`` and ``<name>-key.pem`` are already there.
    """
    files = CertificateFiles(directory / f"{name}.pem", directory / f"{name}-key.pem")
    if files.cert_file.exists() and files.key_file.exists():
        return files
    ca_certificate, ca_key = _load_ca(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(subject_names(hosts)), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.key_file, _private_key_pem(key))
    files.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files


def create_nkey(path: Path) -> str:
    """A new NATS user nkey: its seed written to `path` (0600); returns the public key (U...).

    An existing seed file is kept, and its public key returned.
    """
    if path.exists():
        return nkey_public(path)
    seed = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
    write_private(path, bytes(seed) + b"\n")
    return nkey_public(path)


def nkey_public(path: Path) -> str:
    """The public key (``U...``) of the nkey seed in `path`."""
    try:
        key_pair = nkeys.from_seed(bytearray(path.read_bytes().strip()))
    except FileNotFoundError as error:
        raise PkiError(str(path), "no such nkey seed file") from error
    except Exception as error:  # nkeys raises its own untyped errors for a bad seed
        raise PkiError(str(path), f"not an nkey seed ({error})") from error
    public = bytes(key_pair.public_key).decode()
    key_pair.wipe()
    return public
