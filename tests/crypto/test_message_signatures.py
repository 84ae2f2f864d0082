"""RFC 9421 HTTP Message Signatures in gridledger's profile: the RFC's own Ed25519 example,
and any change to a signed request breaks the signature."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridledger.crypto import is_valid_signature, keypair_from_seed
from gridledger.crypto.message_signatures import (
    MalformedSignature,
    content_digest,
    parse_signature,
    parse_signature_input,
    request_components,
    serialize_signature_params,
    sign_request,
    signature_base,
)
from tests.community import key

# RFC 9421 Appendix B.1.4: test-key-ed25519 (the JWK's "d" is the seed, "x" the public key)
RFC_SEED = base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
RFC_PUBLIC = base64.urlsafe_b64decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs=")
# RFC 9421 Appendix B.2.6: signing the test request with ed25519, label sig-b26
B26_COMPONENTS = [
    ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("@method", "POST"),
    ("@path", "/foo"),
    ("@authority", "example.com"),
    ("content-type", "application/json"),
    ("content-length", "18"),
]
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:"
    + ("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==")
    + ":"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def test_rfc9421_b26_known_answer() -> None:
    keys = keypair_from_seed(RFC_SEED)
    assert keys.public_key == RFC_PUBLIC
    params = serialize_signature_params(
        tuple(name for name, _ in B26_COMPONENTS),
        [("created", 1618884473), ("keyid", "test-key-ed25519")],
    )
    assert "sig-b26=" + params == B26_INPUT
    base = signature_base(B26_COMPONENTS, params)
    assert base.decode() == B26_BASE
    expected = parse_signature(B26_SIGNATURE, "sig-b26")
    assert keys.sign(base) == expected  # Ed25519 is deterministic: the RFC's bytes exactly
    parsed = parse_signature_input(B26_INPUT)
    assert parsed.label == "sig-b26"
    assert parsed.components == tuple(name for name, _ in B26_COMPONENTS)
    assert parsed.parameters == {"created": 1618884473, "keyid": "test-key-ed25519"}
    assert parsed.serialized == params
    assert is_valid_signature(
        RFC_PUBLIC, signature_base(B26_COMPONENTS, parsed.serialized), expected
    )


def test_content_digest_is_rfc9530_sha256() -> None:
    # RFC 9530 Appendix B.1: {"hello": "world"} followed by a line feed
    assert content_digest(b'{"hello": "world"}\n') == (
        "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
    )


def _verifies(headers: dict[str, str], method: str, path: str, query: str) -> bool:
    parsed = parse_signature_input(
        headers["signature-input"].split("=", 1)[0]
        + "="
        + headers["signature-input"].split("=", 1)[1]
    )
    raw = parse_signature(headers["signature"], parsed.label)
    digest = headers.get("content-digest")
    base = signature_base(request_components(method, path, query, digest), parsed.serialized)
    keyid = parsed.text("keyid")
    if keyid is None:  # a flipped byte can rename the parameter ("jeyid"): nothing to check
        return False
    return is_valid_signature(bytes.fromhex(keyid), base, raw)


def test_a_signed_request_verifies() -> None:
    headers = sign_request(
        key("alice"), "GET", "/v1/accounts/gl00", "limit=5", b"", 1_700_000_000, "n0nce-123"
    )
    assert headers["signature-input"].startswith(
        'sig1=("@method" "@path" "@query");created=1700000000'
    )
    assert _verifies(headers, "GET", "/v1/accounts/gl00", "limit=5")
    assert not _verifies(headers, "GET", "/v1/accounts/gl01", "limit=5")
    assert not _verifies(headers, "GET", "/v1/accounts/gl00", "limit=6")
    assert not _verifies(headers, "POST", "/v1/accounts/gl00", "limit=5")


def test_non_zero_pad_bits_in_the_signature_are_refused() -> None:
    """RFC 8941 §3.3.5 allows refusing them; accepting them made one signature verify
    under two header values (``...g==`` and ``...o==``, found by the property below)."""
    headers = sign_request(key("bob"), "GET", "/v1/x", "", b"", 1_700_000_000, "abcdefgh12")
    value = headers["signature"]
    assert value.endswith("==:")
    last = value[-4]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = alphabet[alphabet.index(last) ^ 0b1000]  # a pad bit: same decoded bytes
    assert base64.b64decode(value[6:-1]) == base64.b64decode(value[6:-4] + other + "==")
    tampered = {**headers, "signature": value[:-4] + other + "==:"}
    with pytest.raises(MalformedSignature, match="canonical"):
        _verifies(tampered, "GET", "/v1/x", "")
    assert _verifies(headers, "GET", "/v1/x", "")


@settings(deadline=None)
@example(target="signature-input", position=3371, flip=1)  # renames keyid to jeyid
@given(
    st.sampled_from(["signature", "signature-input", "path", "query", "method"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=255),
)
def test_any_flipped_byte_fails(target: str, position: int, flip: int) -> None:
    method, path, query = "GET", "/v1/settlement/periods/7/statements/gl12", "count=24"
    headers = sign_request(key("bob"), method, path, query, b"", 1_700_000_000, "abcdefgh12")
    values = {"method": method, "path": path, "query": query, **headers}
    text = values[target].encode("latin-1")
    index = position % len(text)
    values[target] = bytes([*text[:index], text[index] ^ flip, *text[index + 1 :]]).decode(
        "latin-1"
    )
    try:
        ok = _verifies(
            {k: values[k] for k in ("signature", "signature-input")},
            values["method"],
            values["path"],
            values["query"],
        )
    except (MalformedSignature, ValueError):
        ok = False
    assert not ok


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sig1",
        'sig1="@method"',
        'sig1=("@method" "@path"',
        'sig1=("@method"  "@path")',
        "sig1=(@method)",
        'sig1=("@method");created=abc',
        'sig1=("@method");created=1;created=2',
        'sig1=("@method");keyid="unterminated',
        'Sig1=("@method")',
        'sig1=("@method");keyid="a\\"b"',
        "sig1=(" + '"x" ' * 400 + ")",
    ],
)
def test_malformed_signature_input_is_refused(header: str) -> None:
    with pytest.raises(MalformedSignature):
        parse_signature_input(header)


@pytest.mark.parametrize(
    "header", ["sig1=abc", "sig1=:not base64!:", "other=:AAAA:", "sig1=:" + "A" * 2000 + ":"]
)
def test_malformed_signature_is_refused(header: str) -> None:
    with pytest.raises(MalformedSignature):
        parse_signature(header, "sig1")
