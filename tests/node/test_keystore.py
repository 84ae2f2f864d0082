"""Key files at rest: modes, symbolic links, encryption, and where a passphrase comes from."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from gridledger.crypto import keypair_from_seed
from gridledger.node.keystore import (
    KeyFileError,
    NotAKeyFile,
    PassphraseRefused,
    PassphraseRequired,
    decrypt_key_file,
    encrypt_key_file,
    key_info,
    plain_content,
    read_key,
    write_key,
)
from gridledger.node.passphrase import PASSPHRASE_FILE_ENV, Passphrase, passphrase_from_file

SEED = bytes(range(32))
KEYS = keypair_from_seed(SEED)
COST = "interactive"


def fixed(passphrase: bytes) -> Passphrase:
    """A source answering `passphrase`, as a passphrase file would."""
    return Passphrase(environment={}, prompt=lambda _: passphrase.decode(), interactive=True)


def secret_file(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def usual_umask() -> object:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_key_files_are_written_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = write_key(tmp_path / "community" / "keys", "alice", KEYS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o755, "only the keys' own dir"
    assert path.read_bytes() == plain_content("alice", KEYS)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o620, 0o601])
def test_a_key_file_others_may_access_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = write_key(tmp_path / "keys", "alice", KEYS)
    path.chmod(mode)
    for read in (read_key, key_info):
        with pytest.raises(KeyFileError) as refused:
            read(path)
        message = str(refused.value)
        assert str(path) in message and f"mode {mode:04o}" in message
        assert f"chmod 600 {path}" in message
    path.chmod(0o400)
    assert read_key(path) == KEYS, "owner read-only is fine"


def test_a_symlinked_key_file_is_refused_and_never_written_through(tmp_path: Path) -> None:
    real = write_key(tmp_path / "elsewhere", "alice", KEYS)
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "alice.key").symlink_to(real)
    with pytest.raises(KeyFileError, match="is a symbolic link"):
        read_key(keys / "alice.key")
    (keys / "bob.key").symlink_to(tmp_path / "target-of-a-dangling-link")
    with pytest.raises(KeyFileError, match="already exists"):
        write_key(keys, "bob", KEYS)
    assert not (tmp_path / "target-of-a-dangling-link").exists()
    linked_directory = tmp_path / "linked"
    linked_directory.symlink_to(real.parent)
    assert read_key(linked_directory / "alice.key") == KEYS, "links above the file are followed"


def test_an_encrypted_key_round_trips_and_hides_its_seed(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys", "alice", KEYS, passphrase=b"correct horse", cost=COST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = json.loads(path.read_text())
    assert SEED.hex() not in path.read_text() and "seed" not in content
    box = content["encrypted"]
    assert (box["version"], box["kdf"], box["cipher"]) == (1, "argon2id13", "xsalsa20poly1305")
    assert (box["opslimit"], box["memlimit"]) == (2, 64 * 1024 * 1024)
    info = key_info(path)
    assert info.encrypted and info.address == KEYS.address and info.name == "alice"
    assert read_key(path, fixed(b"correct horse")) == KEYS


def test_an_encrypted_key_without_or_with_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys", "alice", KEYS, passphrase=b"correct horse", cost=COST)
    with pytest.raises(PassphraseRequired, match="is encrypted"):
        read_key(path)
    with pytest.raises(PassphraseRequired, match="--passphrase-file FILE"):
        read_key(path, Passphrase(environment={}, interactive=False))
    with pytest.raises(PassphraseRefused, match="wrong passphrase") as refused:
        read_key(path, fixed(b"correct horsE"))
    assert str(path) in str(refused.value)


def tamper(path: Path, field: str, change: object) -> None:
    content = json.loads(path.read_text())
    if field == "public_key":
        content[field] = change
    else:
        content["encrypted"][field] = change
    path.write_text(json.dumps(content, indent=2))


def test_a_tampered_encrypted_key_is_refused(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys", "alice", KEYS, passphrase=b"pass", cost=COST)
    ciphertext = json.loads(path.read_text())["encrypted"]["ciphertext"]
    flipped = ciphertext[:10] + ("0" if ciphertext[10] != "0" else "1") + ciphertext[11:]
    tamper(path, "ciphertext", flipped)
    with pytest.raises(PassphraseRefused, match="altered"):
        read_key(path, fixed(b"pass"))

    path = write_key(tmp_path / "keys", "bob", KEYS, passphrase=b"pass", cost=COST)
    tamper(path, "public_key", keypair_from_seed(bytes(32)).public_key.hex())
    with pytest.raises(NotAKeyFile, match="does not match the seed"):
        read_key(path, fixed(b"pass"))

    path = write_key(tmp_path / "keys", "carol", KEYS, passphrase=b"pass", cost=COST)
    tamper(path, "version", 2)
    with pytest.raises(NotAKeyFile, match="version 2; this gridledger reads version 1"):
        read_key(path, fixed(b"pass"))


def test_encrypt_then_decrypt_gives_back_the_plain_file_byte_for_byte(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys", "alice", KEYS)
    original = path.read_bytes()
    assert encrypt_key_file(path, b"pass", COST).encrypted
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SEED.hex().encode() not in path.read_bytes()
    with pytest.raises(KeyFileError, match="is encrypted already"):
        encrypt_key_file(path, b"pass", COST)
    with pytest.raises(PassphraseRefused):
        decrypt_key_file(path, fixed(b"wrong"))
    assert not decrypt_key_file(path, fixed(b"pass")).encrypted
    assert path.read_bytes() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["alice.key"], "no temporary left"
    with pytest.raises(KeyFileError, match="is not encrypted"):
        decrypt_key_file(path, fixed(b"pass"))


def test_a_passphrase_comes_from_its_file_the_environment_or_a_prompt(tmp_path: Path) -> None:
    key_path = tmp_path / "alice.key"
    given = secret_file(tmp_path / "given", "from the option\nsecond line ignored\n")
    named = secret_file(tmp_path / "named", "from the environment\r\n")
    environment = {PASSPHRASE_FILE_ENV: str(named)}
    assert Passphrase(given, environment)(key_path) == b"from the option"
    assert Passphrase(None, environment)(key_path) == b"from the environment"
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "typed"

    source = Passphrase(None, {}, prompt, interactive=True)
    assert source(key_path) == b"typed" and source(key_path) == b"typed"
    assert asked == [f"passphrase for {key_path}: "], "asked once, then reused"
    with pytest.raises(PassphraseRequired, match="the two passphrases differ"):
        Passphrase(None, {}, answers("one", "two"), interactive=True).new(key_path)
    assert Passphrase(None, {}, answers("one", "one"), interactive=True).new(key_path) == b"one"


def answers(*typed: str) -> Callable[[str], str]:
    replies = iter(typed)
    return lambda _question: next(replies)


def test_a_passphrase_file_must_be_private_and_not_empty(tmp_path: Path) -> None:
    path = secret_file(tmp_path / "passphrase", "secret\n")
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"passphrase file \(mode 0644\).*chmod 600"):
        passphrase_from_file(path)
    path.chmod(0o600)
    link = tmp_path / "mounted-secret"
    link.symlink_to(path)
    assert passphrase_from_file(link) == b"secret", "a mounted secret may be a link"
    secret_file(path, "\n")
    with pytest.raises(KeyFileError, match="empty"):
        passphrase_from_file(path)
    with pytest.raises(KeyFileError, match="no such passphrase file"):
        passphrase_from_file(tmp_path / "missing")
