"""The private parts of nats-py that `node/nats_private.py` uses are still there, as used.

If a nats-py release renames or reshapes one of them, these tests fail naming it: see the
module docstring of `gridledger.node.nats_private` before raising the bound in pyproject.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

from nats.aio.client import Client as NatsClient
from nats.aio.subscription import Subscription
from nats.protocol.parser import Parser

from gridledger.node.nats_ordering import hpub_command
from gridledger.node.nats_private import DirectClient
from tests.network.harness import Cluster


def private(owner: type, name: str) -> Callable[..., object]:
    method = getattr(owner, name, None)
    assert method is not None, f"nats-py's {owner.__name__}.{name} is gone (nats_private uses it)"
    return method  # type: ignore[no-any-return]


def parameters(method: Callable[..., object]) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]


def test_process_msg_is_awaited_by_the_parser_with_the_signature_the_override_has() -> None:
    theirs = private(NatsClient, "_process_msg")
    assert inspect.iscoroutinefunction(theirs), "nats-py's Client._process_msg is not async"
    assert parameters(theirs) == parameters(DirectClient._process_msg), (
        f"nats-py's Client._process_msg{inspect.signature(theirs)} differs from the override "
        f"in nats_private.DirectClient{inspect.signature(DirectClient._process_msg)}"
    )
    assert "self.nc._process_msg(" in inspect.getsource(Parser.parse), (
        "nats-py's Parser.parse no longer calls Client._process_msg for each message"
    )


def test_send_command_and_flush_pending_take_the_arguments_publish_raw_gives() -> None:
    client = NatsClient()
    for name, arguments in (("_send_command", (b"PING\r\n",)), ("_flush_pending", ())):
        method = private(NatsClient, name)
        assert inspect.iscoroutinefunction(method), f"nats-py's Client.{name} is not async"
        try:
            inspect.signature(method).bind(client, *arguments)
        except TypeError as error:
            raise AssertionError(
                f"nats-py's Client.{name}{inspect.signature(method)} no longer takes "
                f"{len(arguments)} argument(s) as nats_private.DirectClient.publish_raw calls it"
            ) from error
    assert "_flush_queue" in vars(client), "nats-py's Client no longer has _flush_queue"


def test_a_subscription_carries_its_sid_as_id() -> None:
    assert "id" in inspect.signature(Subscription.__init__).parameters, (
        "nats-py's Subscription is no longer built with its sid (nats_private reads ._id)"
    )


def test_direct_and_ordinary_subscriptions_share_one_connection(
    nats_cluster: Callable[[int], Cluster],
) -> None:
    cluster = nats_cluster(1)

    async def scenario() -> None:
        client = DirectClient()
        await client.connect(servers=cluster.urls, connect_timeout=5)
        try:
            assert isinstance(client._flush_queue, asyncio.Queue), (
                "nats-py's Client._flush_queue is not a queue once connected"
            )
            taken: list[tuple[bytes, bytes, bytes, bytes]] = []
            arrived = asyncio.Event()

            def take(subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
                taken.append((subject, reply, data, headers))
                arrived.set()

            direct = await client.subscribe_direct("t.direct", take)
            assert isinstance(direct._id, int), "nats-py's Subscription._id is not the int sid"
            ordinary = await client.subscribe("t.ordinary")
            await client.publish_raw(
                [
                    hpub_command(b"t.direct", b"t.reply.1", "m-1", b"\x00one"),
                    hpub_command(b"t.ordinary", b"t.reply.2", "m-2", b"two"),
                ]
            )
            await asyncio.wait_for(arrived.wait(), 10)
            header = b"NATS/1.0\r\nNats-Msg-Id: m-1\r\n\r\n"
            assert taken == [(b"t.direct", b"t.reply.1", b"\x00one", header)]
            message = await ordinary.next_msg(timeout=10)
            assert (message.subject, message.reply, message.data) == (
                "t.ordinary",
                "t.reply.2",
                b"two",
            )
            assert message.headers == {"Nats-Msg-Id": "m-2"}

            await client.unsubscribe_direct(direct)
            assert direct._id not in client.direct
        finally:
            await client.close()

    asyncio.run(scenario())
