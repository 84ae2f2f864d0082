"""Where the passphrase of an encrypted key file comes from.

Never from the command line itself (other users see it in ``ps``) nor from an
environment variable holding it (children inherit it, crash reports print it).
In order:

1. a passphrase file given explicitly (``--passphrase-file FILE``);
2. the file named by ``$GRIDLEDGER_PASSPHRASE_FILE`` (for services: a systemd
   credential, a secret mounted into a container);
3. a hidden prompt, when standard input is a terminal;

and otherwise the read is refused, naming the key file and these ways. A
passphrase file is a secret like a key file: it must not be accessible to group
or others (its target is checked; unlike a key file it may be a symbolic link,
as mounted secrets often are). Its first line is the passphrase (a final
newline is not part of it). The passphrase is read once per process and reused
for every key that needs one.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from gridledger.node.keystore import KeyFileError, PassphraseRequired, read_private_file

PASSPHRASE_FILE_ENV = "GRIDLEDGER_PASSPHRASE_FILE"
HOW_TO_GIVE = (
    f"give its passphrase with --passphrase-file FILE or ${PASSPHRASE_FILE_ENV}, "
    "or run the command on a terminal to be asked"
)

Prompt = Callable[[str], str]


def passphrase_from_file(path: Path) -> bytes:
    """The passphrase in `path`: its first line, without the line end; never empty."""
    text = read_private_file(path, follow_symlinks=True, what="passphrase file")
    passphrase = text.split(b"\n", 1)[0].removesuffix(b"\r")
    if not passphrase:
        raise KeyFileError(path, "the passphrase file is empty (its first line is the passphrase)")
    return passphrase


class Passphrase:
    """A passphrase source for `read_key`: called with the encrypted key file's path.

    `file` is the explicit ``--passphrase-file``; without it ``$GRIDLEDGER_PASSPHRASE_FILE``
    in `environment`, then `prompt` (``getpass``) when standard input is a terminal.
    """

    def __init__(
        self,
        file: Path | None = None,
        environment: Mapping[str, str] | None = None,
        prompt: Prompt | None = None,
        interactive: bool | None = None,
    ) -> None:
        environment = os.environ if environment is None else environment
        named = environment.get(PASSPHRASE_FILE_ENV) or None
        self.file = file if file is not None else (Path(named) if named else None)
        self.prompt = prompt or getpass.getpass
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._cached: bytes | None = None

    def __call__(self, key_path: Path) -> bytes:
        if self._cached is None:
            self._cached = self._obtain(key_path)
        return self._cached

    def _obtain(self, key_path: Path) -> bytes:
        if self.file is not None:
            return passphrase_from_file(self.file)
        if not self.interactive:
            raise PassphraseRequired(key_path, f"is encrypted; {HOW_TO_GIVE}")
        entered = self.prompt(f"passphrase for {key_path}: ").encode()
        if not entered:
            raise PassphraseRequired(key_path, "is encrypted and no passphrase was entered")
        return entered

    def new(self, key_path: Path) -> bytes:
        """A passphrase to encrypt `key_path` with: from the file, or asked twice on a terminal."""
        if self.file is not None:
            return passphrase_from_file(self.file)
        if not self.interactive:
            raise PassphraseRequired(key_path, f"needs a new passphrase; {HOW_TO_GIVE}")
        first = self.prompt(f"new passphrase for {key_path}: ")
        if not first:
            raise PassphraseRequired(key_path, "an empty passphrase encrypts nothing")
        if self.prompt("the same passphrase again: ") != first:
            raise PassphraseRequired(key_path, "the two passphrases differ; nothing was changed")
        return first.encode()
