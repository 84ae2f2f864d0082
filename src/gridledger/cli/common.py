"""What every command shares: its options, the one rule for ``--url`` against ``--dir``,
errors and output.

The rule: a command that reads or writes a chain talks over HTTP to the node(s) named
by ``--url`` (comma-separated peers; or ``$GRIDLEDGER_URL``) when one is given, and
otherwise opens the chain in ``--dir`` (default ``./community``) in this process,
offline. The offline way needs no running node, and is refused while a node runs on
that chain: a chain file has one writer. Key files are always read from ``--dir``.
(`gridledger bench` alone never reads ``$GRIDLEDGER_URL``: it loads only a node it is
named; without ``--url`` it starts its own.)

Errors are one line on stderr and exit code 1 (or 2: the call was committed but the
contract refused it, or the command line was wrong), never a traceback.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import typer
from rich.console import Console
from rich.markup import escape

from gridledger.client import ClientError, Wallet
from gridledger.client.replies import PendingReply, TransactionReply
from gridledger.crypto import KeyPair, is_address
from gridledger.crypto.privacy import MAX_RING_SIZE
from gridledger.ledger import GenesisError, load_genesis
from gridledger.node.errors import NodeError
from gridledger.node.keystore import KeyFileError, find_key, key_info, key_path
from gridledger.node.passphrase import PASSPHRASE_FILE_ENV, Passphrase

if TYPE_CHECKING:  # imported where used: the node (and its contracts, numpy) and httpx
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient
    from gridledger.node.core import Node

URL_ENV = "GRIDLEDGER_URL"
DEFAULT_DIR = Path("community")
URL_RULE = (
    "With --url URL[,URL...] (or $GRIDLEDGER_URL) a command talks to those nodes over HTTP; "
    "without it, it opens the chain in --dir (default ./community) in this process, "
    "which works while no node runs on that chain."
)

DirOption = typer.Option(
    DEFAULT_DIR, "--dir", "-d", help="Community directory (genesis.json, keys/, chain.sqlite)"
)
UrlOption = typer.Option(
    None,
    "--url",
    envvar=URL_ENV,
    help="Node API URL(s), comma-separated: talk to them over HTTP. "
    "Without it the chain in --dir is opened in this process",
)
KeyOption = typer.Option(..., "--key", "-k", help="Signing key: a name in DIR/keys, or a .key file")
ReadKeyOption = typer.Option(
    None,
    "--key",
    "-k",
    help="With --url: sign the reads with this key (a name in DIR/keys, or a .key file); "
    "a node answers only its members",
)
SIGN_HINT = "sign the request with -k NAME (a member's key in DIR/keys)"
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table")
PASSPHRASE_FILE_HELP = (
    "File whose first line is the passphrase of encrypted key files (mode 0600); "
    f"default ${PASSPHRASE_FILE_ENV}, else asked on a terminal"
)
PassphraseFileOption = typer.Option(None, "--passphrase-file", help=PASSPHRASE_FILE_HELP)
RingSizeOption = typer.Option(
    MAX_RING_SIZE, "--ring-size", min=2, max=MAX_RING_SIZE, help="Keys in the ring"
)


def console() -> Console:
    """Standard output; made per use, so it sees the terminal (and its width) of the moment."""
    return Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: MESSAGE`` as one line on stderr; raise the returned exit."""
    Console(stderr=True).print(
        f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def print_json(value: Any) -> None:
    """`value` (replies, or plain data holding them) as indented JSON."""
    console().print_json(msgspec.json.encode(value).decode())


def chain_path(directory: Path) -> Path:
    return directory / "chain.sqlite"


def open_node(directory: Path, hold_lock: bool = False, **options: Any) -> Node:
    """Open the community's chain in this process; refuse while a node runs on it.

    Only `gridledger node` and offline writes hold the writer lock for as long as they
    run; reads only check it. The caller closes the node (``try``/``finally``): Typer
    vendors its own click, so a click context cannot do it.
    """
    from gridledger.node.core import Node

    genesis_file = _genesis_file(directory)
    try:
        genesis = load_genesis(genesis_file.read_bytes())
        opened = Node.open_path(chain_path(directory), genesis, hold_lock=hold_lock, **options)
    except (GenesisError, NodeError) as error:
        raise fail(str(error)) from error
    return opened


def _genesis_file(directory: Path) -> Path:
    """The community's genesis.json; refused, naming `gridledger init`, if there is none."""
    genesis_file = directory / "genesis.json"
    if not genesis_file.exists():
        raise fail(f"{genesis_file} not found; run `gridledger init --dir {directory}` first")
    return genesis_file


def peer_urls(url: str | None) -> list[str]:
    """The URLs of ``--url`` (comma-separated); none if it is absent or empty."""
    return [u.strip() for u in (url or "").split(",") if u.strip()]


def make_client(
    url: str | None, directory: Path, write: bool = False, key: str | None = None
) -> HttpClient | EmbeddedClient:
    """The client the rule picks: HTTP to the peers of `url` (signing its reads with the
    key named `key`, if any), else the chain in `directory` (opened in this process; it
    holds the writer lock with `write`; no key is needed: the files are the owner's)."""
    peers = peer_urls(url)
    if peers:
        from gridledger.client.http import HttpClient

        return HttpClient(peers, keys=None if key is None else load_key(directory, key))
    from gridledger.client.embedded import EmbeddedClient

    genesis_file = _genesis_file(directory)
    try:
        genesis = load_genesis(genesis_file.read_bytes())
        return EmbeddedClient.open(chain_path(directory), genesis, hold_lock=write)
    except (GenesisError, NodeError) as error:
        raise fail(str(error)) from error


@contextlib.contextmanager
def connect(
    url: str | None, directory: Path, write: bool = False, key: str | None = None
) -> Iterator[HttpClient | EmbeddedClient]:
    """`make_client`, closed afterwards; the client's refusals become one-line errors.

    `write`: the command signs and submits, so an offline chain is locked for its duration.
    `key`: the key that signs the reads over HTTP (a write's `Wallet` signs with its own).
    """
    client = make_client(url, directory, write, key)
    try:
        yield client
    except ClientError as error:
        from gridledger.client.http import HttpClient

        unsigned = isinstance(client, HttpClient) and client.keys is None
        if error.status == 401 and unsigned:
            raise fail(f"{error}; {SIGN_HINT}") from error
        raise fail(str(error)) from error
    except KeyFileError as error:
        raise fail(str(error)) from error
    finally:
        client.close()


_COMMAND_PASSPHRASE: contextvars.ContextVar[Passphrase | None] = contextvars.ContextVar(
    "gridledger_passphrase", default=None
)


def start_command(passphrase_file: Path | None) -> None:
    """Called by the root callback as every command starts: its ``gridledger --passphrase-file``
    (else ``$GRIDLEDGER_PASSPHRASE_FILE``, else a prompt) becomes the command's source."""
    _COMMAND_PASSPHRASE.set(Passphrase(passphrase_file))


def passphrase_source(file: Path | None = None) -> Passphrase:
    """Where this command's encrypted keys get their passphrase: `file` (a command's own
    ``--passphrase-file``), else the command's source (see `start_command`). One per command,
    so a passphrase is asked at most once."""
    if file is not None:
        return Passphrase(file)
    current = _COMMAND_PASSPHRASE.get()
    if current is None:
        current = Passphrase()
        _COMMAND_PASSPHRASE.set(current)
    return current


def load_key(directory: Path, name: str) -> KeyPair:
    """A key by name in ``directory/keys``, or by path (asking for its passphrase if encrypted)."""
    try:
        return find_key(directory, name, passphrase_source())
    except KeyFileError as error:
        raise fail(str(error)) from error


def address_of(text: str, directory: Path) -> str:
    """An address as given, or the address of the key named `text` (no passphrase needed)."""
    if is_address(text):
        return text
    try:
        return key_info(key_path(directory, text)).address
    except KeyFileError as error:
        raise fail(f"{text!r} is neither an address nor a key name ({error.reason})") from error


def call(
    client: HttpClient | EmbeddedClient,
    keys: KeyPair,
    contract: str,
    method: str,
    args: dict[str, Any],
    wait: bool = True,
) -> TransactionReply | PendingReply:
    """Sign and submit; with `wait`, answer the committed receipt (which says if refused)."""
    return Wallet(keys, client).call(contract, method, args, wait=wait)


def finish(
    view: TransactionReply | PendingReply, as_json: bool, extra: dict[str, Any] | None = None
) -> None:
    """Print a submitted call (JSON or a line); exit 2 if its transaction was refused."""
    if as_json:
        print_json({**msgspec.to_builtins(view), **(extra or {})})
    if not isinstance(view, TransactionReply):
        if not as_json:
            console().print(f"transaction {view.id} is {view.status} (not committed yet)")
        return
    if view.code != 0:
        raise fail(f"refused ({view.result}): {view.message}", code=2)
    if not as_json:
        console().print(
            f"committed in block {view.height} (transaction {view.id})", highlight=False
        )


def print_read(
    url: str | None,
    directory: Path,
    key: str | None,
    read: Callable[[HttpClient | EmbeddedClient], Any],
) -> None:
    """Print as JSON what `read` answers over the client of the rule (its reads signed by
    the key named `key` over HTTP, if any)."""
    with connect(url, directory, key=key) as client:
        print_json(read(client))


@contextlib.contextmanager
def connect_signed(
    url: str | None, directory: Path, key: str
) -> Iterator[tuple[HttpClient | EmbeddedClient, KeyPair]]:
    """The key named `key` (its passphrase asked first, if encrypted), then a client to
    write with (`connect` with `write`; over HTTP its reads are signed by that key)."""
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        yield client, keys


def submit_call(
    url: str | None,
    directory: Path,
    key: str,
    call_of: tuple[str, str, dict[str, Any]],
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """Sign ``call_of`` = (contract, method, args) with the key named `key`, submit it, wait
    for its block and print it (`finish`: exit 2 if the contract refused it)."""
    contract, method, args = call_of
    with connect_signed(url, directory, key) as (client, keys):
        finish(call(client, keys, contract, method, args), as_json, extra)
