"""The ordering cluster does not trust the network: TLS, nkeys, per-peer permissions.

Real nats-server processes on 127.0.0.1 with the network's PKI (`SecuredCluster`); every
wait is bounded and every process is stopped by its pid when the test ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import subprocess
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.errors import Error as NatsError

from gridledger.node import pki
from gridledger.node.nats_ordering import NatsLog, chain_token
from gridledger.node.nats_security import (
    ClientCredentials,
    CredentialsError,
    InsecureOrdering,
    check_ordering_cluster,
    ordering_streams,
    probe_server,
)
from gridledger.node.network_config import (
    NETWORK_FILE,
    NetworkSpec,
    dump_network,
    load_network,
    peer_ordering_log,
)
from gridledger.node.supervisor import network_up, resolve_network
from tests.network.harness import Cluster, SecuredCluster, free_port
from tests.network.peers import peer_keys
from tests.node.harness import gridledger_command, one_line, run_cli, write_community

CHAIN = "secured"
CONNECT_TIMEOUT_S = 3


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 90))


async def connect(urls: list[str], errors: list[str], **options: Any) -> Any:
    """A nats-py client that does not retry, collecting the errors the server sends."""

    async def collect(error: Exception) -> None:
        errors.append(str(error))

    return await nats.connect(
        servers=urls,
        connect_timeout=CONNECT_TIMEOUT_S,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        error_cb=collect,
        **options,
    )


async def refused(urls: list[str], **options: Any) -> str:
    """Connect with `options` and return why it failed (fails the test if it connects)."""
    errors: list[str] = []
    try:
        client = await connect(urls, errors, **options)
    except (NatsError, OSError, TimeoutError, ssl.SSLError) as error:
        return f"{type(error).__name__}: {error} {errors}"
    await client.close()
    raise AssertionError(f"connected with {sorted(options)}")


async def stored(cluster: SecuredCluster) -> int:
    """How many messages the ordering stream holds (asked as the admin)."""
    client = await connect(cluster.urls, [], **cluster.credentials("admin").connect_options())
    try:
        info = await client.jetstream(timeout=5).stream_info(ordering_streams(CHAIN)[0])
        return int(info.state.messages)
    finally:
        await client.close()


def test_only_a_peer_with_its_nkey_over_tls_can_publish_to_the_ordering_subject(
    secured_cluster: Callable[..., SecuredCluster],
) -> None:
    cluster = secured_cluster(1, chain_id=CHAIN)

    async def scenario() -> None:
        peer = NatsLog(cluster.urls, CHAIN, 1, "p1", cluster.credentials("p1").connect_options())
        await peer.connect(timeout_s=30)
        try:
            await peer.publish_transactions([b"a transaction"])
        finally:
            await peer.close()
        assert await stored(cluster) == 1

        tls_only = cluster.credentials("p1").connect_options()
        del tls_only["nkeys_seed"]  # TLS with the right CA, but no credentials
        assert "Authorization Violation" in await refused(cluster.urls, **tls_only)

        # the peer's own nkey without TLS: the server waits for a TLS handshake, never INFO
        why = await refused(cluster.urls, nkeys_seed=str(cluster.credentials("p1").nkey_file))
        assert "INFO" in why or "Timeout" in why or "NoServers" in why, why

        # TLS to a server whose certificate another CA signed: refused by the client
        other = pki.create_ca(cluster.directory / "other-ca", "someone else")
        stranger = replace(cluster.credentials("p1"), ca_file=other.cert_file)
        assert "CERTIFICATE_VERIFY_FAILED" in await refused(
            cluster.urls, **stranger.connect_options()
        )

        # none of them got a connection to publish on: still the peer's one message
        assert await stored(cluster) == 1

    run(scenario())


def test_a_peer_credential_reaches_only_its_own_subjects(
    secured_cluster: Callable[..., SecuredCluster],
) -> None:
    cluster = secured_cluster(1, chain_id=CHAIN)
    token = chain_token(CHAIN)
    order_stream, _ = ordering_streams(CHAIN)

    async def scenario() -> None:
        # the streams exist (as after any peer's first start)
        first = NatsLog(cluster.urls, CHAIN, 1, "p2", cluster.credentials("p2").connect_options())
        await first.connect(timeout_s=30)
        await first.close()

        errors: list[str] = []
        client = await connect(cluster.urls, errors, **cluster.credentials("p1").connect_options())
        try:
            p2_key = peer_keys("p2").public_key.hex()
            await client.publish(f"gl.{token}.attest.{p2_key}", b"forged attestation")
            await client.publish(f"$JS.API.STREAM.DELETE.{order_stream}", b"")
            await client.publish(f"$JS.API.STREAM.PURGE.{order_stream}", b"")
            await client.publish("gl.other-chain.order.tx", b"another chain")
            await client.subscribe("_INBOX_p2.>")
            await client.subscribe(f"gl.{token}.order.>")
            await client.flush(timeout=5)
            deadline = time.monotonic() + 10
            while len(errors) < 6 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(errors) == 6, errors
            assert all("permissions violation" in error.lower() for error in errors), errors
            # its own subjects work on the same connection
            own = await client.jetstream(timeout=5).publish(f"gl.{token}.order.tx", b"mine")
            assert own.seq == 1
        finally:
            await client.close()
        assert await stored(cluster) == 1  # nothing deleted, purged or forged

    run(scenario())


def test_the_peer_check_refuses_plaintext_open_or_foreign_clusters(
    nats_cluster: Callable[[int], Cluster],
    secured_cluster: Callable[..., SecuredCluster],
) -> None:
    plaintext = nats_cluster(1)
    secured = secured_cluster(1, chain_id=CHAIN)
    open_cluster = secured_cluster(1, chain_id=CHAIN, users=False)
    mine = secured.credentials("p1")

    check_ordering_cluster(secured.urls, mine)  # TLS first, nkeys: fine
    facts = probe_server(secured.urls[0], mine.tls_context())
    assert facts.tls_first and facts.tls_required and facts.auth_required

    with pytest.raises(InsecureOrdering, match="speaks plaintext"):
        check_ordering_cluster(plaintext.urls, mine)
    with pytest.raises(InsecureOrdering, match="without credentials"):
        check_ordering_cluster(open_cluster.urls, replace(mine, ca_file=open_cluster.ca.cert_file))
    with pytest.raises(InsecureOrdering, match="not one the pinned CA signed"):
        check_ordering_cluster(open_cluster.urls, mine)
    with pytest.raises(InsecureOrdering, match="no TLS CA and nkey credentials"):
        check_ordering_cluster(plaintext.urls, None)
    # one bad server among good ones is enough to refuse
    with pytest.raises(InsecureOrdering, match="speaks plaintext"):
        check_ordering_cluster([*secured.urls, *plaintext.urls], mine)
    # told so explicitly, the peer goes ahead
    check_ordering_cluster(plaintext.urls, None, insecure=True)
    check_ordering_cluster(plaintext.urls, mine, insecure=True)


def spawn(log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """`gridledger ARGS` as a process logging to `log_path` (the test stops it by pid)."""
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [*gridledger_command(), *args], stdout=log_file, stderr=subprocess.STDOUT
        )


def network_on(cluster: Cluster, directory: Path, insecure: bool) -> Path:
    """A one-peer network.json (peer ``p1``) whose servers are `cluster`'s."""
    spec = NetworkSpec(chain_id=CHAIN, servers=1, peers=["p1"], insecure=insecure)
    config = resolve_network(directory, spec)
    config = replace(config, servers=cluster.specs)
    dump_network(config, directory / NETWORK_FILE)
    return directory / NETWORK_FILE


def test_a_peer_pointed_at_a_plaintext_cluster_refuses_to_start_unless_told_so(
    tmp_path: Path, nats_cluster: Callable[[int], Cluster]
) -> None:
    plaintext = nats_cluster(1)
    secured_file = network_on(plaintext, tmp_path / "secured", insecure=False)
    peer_dir = str(secured_file.parent / "peers" / "p1")

    with pytest.raises(InsecureOrdering, match="speaks plaintext"):
        peer_ordering_log(load_network(secured_file), secured_file.parent, "p1")
    node = ["node", "--dir", peer_dir, "--ordering", "nats", "--peer", "p1", "--port"]
    started = run_cli(*node, str(free_port()), "--network", str(secured_file), timeout_s=90)
    assert started.returncode == 1
    message = one_line(started.stderr)
    assert "speaks plaintext (no TLS)" in message and "--insecure-ordering" in message

    # a network file without credentials is refused before anything is asked
    open_file = network_on(plaintext, tmp_path / "open", insecure=True)
    open_dir = str(open_file.parent / "peers" / "p1")
    node[2] = open_dir
    started = run_cli(*node, str(free_port()), "--network", str(open_file), timeout_s=90)
    assert started.returncode == 1
    assert "no TLS CA and nkey credentials" in one_line(started.stderr)

    # with --insecure-ordering it starts, and says so loudly
    port = free_port()
    log_path = tmp_path / "insecure.log"
    process = spawn(log_path, *node, str(port), "--network", str(open_file), "--insecure-ordering")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/head", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert process.poll() is None, log_path.read_text()
        text = log_path.read_text()
        assert "WARNING" in text and "--insecure-ordering" in text, text
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def test_the_api_serves_https_with_a_certificate_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    community = tmp_path / "c"
    write_community(community)
    ca = pki.create_ca(tmp_path / "pki", "test API CA")
    files = pki.issue_certificate(ca, tmp_path / "pki", "api", ["localhost"])
    assert files.key_file.stat().st_mode & 0o777 == 0o600
    port = free_port()
    log_path = tmp_path / "node.log"
    tls = ["--tls-cert", str(files.cert_file), "--tls-key", str(files.key_file)]
    process = spawn(log_path, "node", "--dir", str(community), "--port", str(port), *tls)
    trusted = ssl.create_default_context(cafile=str(ca.cert_file))
    try:
        head: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while not head and time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/v1/head", timeout=2, verify=trusted)
                head = response.json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert head.get("height") == 0, log_path.read_text()
        with pytest.raises(httpx.TransportError):  # plain http on the same port is not served
            httpx.get(f"http://127.0.0.1:{port}/v1/head", timeout=2)
        with pytest.raises(httpx.TransportError):  # nor to a client that does not trust the CA
            httpx.get(f"https://127.0.0.1:{port}/v1/head", timeout=2)
        # the CLI trusts the network's CA through the environment (README)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.cert_file))
        shown = run_cli("show", "head", "--url", f"https://127.0.0.1:{port}")
        assert shown.returncode == 0 and "height" in shown.stdout, shown.stdout + shown.stderr
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=15)

    half = run_cli("node", "--dir", str(community), "--tls-cert", str(files.cert_file))
    assert half.returncode == 1 and "needs both a certificate and its key" in half.stderr


def test_network_up_writes_private_files_and_records_each_peers_credentials(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "net"
    config = resolve_network(directory, NetworkSpec(chain_id=CHAIN, servers=3, peers=["a", "b"]))
    assert config.secured and config.ca_file == "pki/ca.pem"
    nkeys = set()
    for entry in config.peers:
        assert entry.nkey_file == f"creds/{entry.name}.nk" and entry.nkey is not None
        assert pki.nkey_public(directory / entry.nkey_file) == entry.nkey
        nkeys.add(entry.nkey)
        credentials = config.peer_credentials(directory, entry.name)
        assert isinstance(credentials, ClientCredentials)
        assert credentials.inbox == f"_INBOX_{entry.name}"
    assert len(nkeys) == 2
    for private in [
        *(directory / "creds").iterdir(),
        *(directory / "pki").glob("*-key.pem"),
    ]:
        assert private.stat().st_mode & 0o777 == 0o600, private
    exposed = directory / "creds" / "a.nk"
    exposed.chmod(0o644)
    with pytest.raises(CredentialsError, match="readable by others"):
        peer_ordering_log(config, directory, "a")
    recorded = json.loads((directory / NETWORK_FILE).read_text())
    assert [p["nkey_file"] for p in recorded["peers"]] == ["creds/a.nk", "creds/b.nk"]
    security = config.server_security("nats2")
    assert security is not None and security.cert_file == "pki/nats2.pem"
    assert [u.name for u in security.users] == ["admin", "a", "b"]


def test_an_insecure_network_says_so_in_every_peers_log(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    directory = tmp_path / "net"
    network_dirs.append(directory)
    spec = NetworkSpec(chain_id=CHAIN, servers=1, peers=["p1"], insecure=True)
    network_up(directory, spec)
    config = load_network(directory / NETWORK_FILE)
    assert not config.secured and config.peer_credentials(directory, "p1") is None
    assert not probe_server(config.nats_urls[0], None).tls_required
    log = (directory / "logs" / "p1.log").read_text()
    assert "WARNING" in log and "--insecure-ordering" in log, log


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"hosts": {"nats1": "a", "p1": "b"}}, "missing ['nats2', 'nats3']"),
        (
            {"servers": 1, "hosts": {"nats1": "a", "p1": "b", "p2": "b"}, "peers": ["p1", "p2"]},
            "two peers on ['b']",
        ),
        ({"insecure": True, "api_tls": True}, "api_tls needs the network's CA"),
    ],
)
def test_a_network_description_with_bad_hosts_or_options_is_refused(
    fields: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        NetworkSpec(**{"peers": ["p1"], **fields})
