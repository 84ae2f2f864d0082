"""`gridledger keys new --encrypt|encrypt|decrypt` and signing with encrypted keys."""

from __future__ import annotations

import json
import os
import pty
import select
import time
from pathlib import Path

import pytest

from gridledger.bench.community import senders_of_directory
from gridledger.bench.settings import BenchError
from gridledger.node.keystore import encrypt_key_file, read_key
from gridledger.node.passphrase import Passphrase
from gridledger.node.supervisor import gridledger_command
from tests.cli.helpers import address_of_key, fails, ok, ok_json

CHEAP = ("--cost", "interactive")


def secret(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def transfer(directory: Path, *root: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    args = (
        *root,
        "submit",
        "tokens",
        "transfer",
        "-k",
        "alice",
        "--dir",
        str(directory),
        "--arg",
        f"to={address_of_key(directory, 'bob')}",
        "--arg",
        "amount_micro=5",
    )
    if code:
        return fails(*args, code=code, env=env)
    view = json.loads(ok(*args, env=env))
    assert view["code"] == 0
    return str(view["id"])


def test_signing_with_an_encrypted_key_needs_its_passphrase(
    community: Path, tmp_path: Path
) -> None:
    directory = str(community)
    passphrase = secret(tmp_path / "passphrase", "correct horse battery staple\n")
    wrong = secret(tmp_path / "wrong", "incorrect horse\n")
    alice = read_key(community / "keys" / "alice.key")
    encrypted = ok(
        "keys", "encrypt", "alice", "--dir", directory, "--passphrase-file", passphrase, *CHEAP
    )
    assert "encrypted" in encrypted and alice.address in encrypted
    assert alice.seed.hex() not in (community / "keys" / "alice.key").read_text()

    shown = ok_json("keys", "show", "alice", "--dir", directory)
    assert shown["encrypted"] is True and shown["address"] == alice.address
    assert "alice" in ok("keys", "list", "--dir", directory)

    refused = transfer(community, code=1)
    assert "alice.key: is encrypted" in refused and "--passphrase-file FILE" in refused
    assert "wrong passphrase" in transfer(community, "--passphrase-file", wrong, code=1)
    transfer(community, "--passphrase-file", passphrase)
    transfer(community, env={"GRIDLEDGER_PASSPHRASE_FILE": passphrase})

    assert "is encrypted already" in fails(
        "keys", "encrypt", "alice", "--dir", directory, "--passphrase-file", passphrase
    )
    assert "wrong passphrase" in fails(
        "keys", "decrypt", "alice", "--dir", directory, "--passphrase-file", wrong
    )
    assert "plain" in ok(
        "keys", "decrypt", "alice", "--dir", directory, "--passphrase-file", passphrase
    )
    assert read_key(community / "keys" / "alice.key") == alice
    transfer(community)


def test_keys_new_encrypt_and_the_refusals(community: Path, tmp_path: Path) -> None:
    directory = str(community)
    passphrase = secret(tmp_path / "passphrase", "erin's\n")
    made = ok(
        "keys",
        "new",
        "erin",
        "--encrypt",
        "--dir",
        directory,
        "--passphrase-file",
        passphrase,
        *CHEAP,
    )
    assert "encrypted" in made
    assert json.loads((community / "keys" / "erin.key").read_text())["encrypted"]["version"] == 1
    assert "needs a new passphrase" in fails(
        "keys", "new", "frank", "--encrypt", "--dir", directory
    )
    assert not (community / "keys" / "frank.key").exists()
    assert "needs a new passphrase" in fails("keys", "encrypt", "bob", "--dir", directory)
    assert "--cost must be one of" in fails(
        "keys",
        "encrypt",
        "bob",
        "--dir",
        directory,
        "--passphrase-file",
        passphrase,
        "--cost",
        "extreme",
        code=2,
    )
    assert "no such key file" in fails("keys", "encrypt", "nobody", "--dir", directory)

    exposed = Path(passphrase)
    exposed.chmod(0o644)
    assert "chmod 600" in fails(
        "--passphrase-file", passphrase, "keys", "decrypt", "erin", "--dir", directory
    )


def test_a_key_file_others_can_read_is_refused_by_every_command(community: Path) -> None:
    path = community / "keys" / "alice.key"
    path.chmod(0o644)
    message = transfer(community, code=1)
    assert str(path) in message and "mode 0644" in message and f"chmod 600 {path}" in message
    assert "mode 0644" in fails("keys", "show", "alice", "--dir", str(community))
    path.chmod(0o600)
    transfer(community)


def test_the_bench_opens_the_encrypted_keys_it_sends_with(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    community, url = served
    copy = tmp_path / "community"
    (copy / "keys").mkdir(parents=True, mode=0o700)
    for path in (community / "keys").glob("*.key"):
        (copy / "keys" / path.name).write_bytes(path.read_bytes())
        (copy / "keys" / path.name).chmod(0o600)
    encrypt_key_file(copy / "keys" / "alice.key", b"bench", cost="interactive")
    passphrase = Path(secret(tmp_path / "passphrase", "bench\n"))
    with pytest.raises(BenchError, match=r"alice\.key: is encrypted"):
        senders_of_directory(url, copy, accounts=10, total=4)
    senders = senders_of_directory(url, copy, 10, 4, passphrase=Passphrase(passphrase))
    alice = read_key(community / "keys" / "alice.key")
    assert alice in [sender.keys for sender in senders]


def read_until(descriptor: int, wanted: bytes, timeout_s: float = 60.0) -> bytes:
    """What the terminal shows until `wanted` appears (or the process closes it)."""
    seen = b""
    deadline = time.monotonic() + timeout_s
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([descriptor], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(descriptor, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_on_a_terminal_the_passphrase_is_asked_without_echo(
    community: Path, tmp_path: Path
) -> None:
    passphrase = secret(tmp_path / "passphrase", "typed at the prompt\n")
    ok("keys", "encrypt", "alice", "--dir", str(community), "--passphrase-file", passphrase, *CHEAP)
    command = [*gridledger_command(), "keys", "decrypt", "alice", "--dir", str(community)]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.execv(command[0], command)
    shown = read_until(terminal, b"passphrase for")
    assert b"alice.key" in shown
    os.write(terminal, b"typed at the prompt\n")
    shown += read_until(terminal, b"\x00")  # everything until it exits
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert b"typed at the prompt" not in shown, "the passphrase is not echoed"
    assert b"plain" in shown
    assert not json.loads((community / "keys" / "alice.key").read_text()).get("encrypted")
