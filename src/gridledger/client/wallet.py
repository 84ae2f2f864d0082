"""A member's keys bound to a client: signs calls with the right nonce."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gridledger.client.errors import ClientError
from gridledger.client.interface import Client
from gridledger.client.replies import PendingReply, TransactionReply
from gridledger.crypto.keys import KeyPair
from gridledger.ledger.transactions import encode_transaction, make_transaction


class Wallet:
    """A member's keys bound to a client: signs calls with the right nonce.

    An HTTP client that signs with no keys yet is given the wallet's, so its reads (the
    nonce first of all) are signed by the member.
    """

    def __init__(self, keys: KeyPair, client: Client) -> None:
        self.keys = keys
        self.client = client
        self._nonce: int | None = None
        sign_with = getattr(client, "sign_with", None)
        if sign_with is not None and getattr(client, "keys", None) is None:
            sign_with(keys)

    @property
    def address(self) -> str:
        return self.keys.address

    def sign(self, contract: str, method: str, args: dict[str, Any] | None = None) -> bytes:
        """Sign a call with the next nonce (and count it as used)."""
        if self._nonce is None:
            self._nonce = self.client.account(self.address).nonce
        raw = encode_transaction(
            make_transaction(self.keys, self.client.chain_id(), self._nonce, contract, method, args)
        )
        self._nonce += 1
        return raw

    def resync(self) -> None:
        """Forget the local nonce; the next call asks the node."""
        self._nonce = None

    def call(
        self,
        contract: str,
        method: str,
        args: dict[str, Any] | None = None,
        wait: bool = True,
        timeout_ms: int = 10_000,
    ) -> TransactionReply | PendingReply:
        """Sign and submit a call; with `wait`, return its committed transaction."""
        raw = self.sign(contract, method, args)
        used = self._nonce
        try:
            return self.client.submit(raw, wait=wait, timeout_ms=timeout_ms)
        except ClientError as error:
            expected = error.body.get("expected")
            if error.error == "nonce_mismatch" and isinstance(expected, int):
                self._nonce = expected  # the node says which nonce it waits for
            elif used is not None and self._nonce == used:
                self._nonce = used - 1  # a refused transaction did not use its nonce
            else:
                self.resync()
            raise


def wait_until(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout_s` passes; return whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
