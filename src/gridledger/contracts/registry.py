"""How contracts are declared, registered and dispatched by name.

A contract is a set of pure functions over its own state namespace. Each
method declares the msgspec type of its arguments and who may call it:

- ``anyone``: any holder of a valid key may reach the method (``membership.apply``,
  ``metering.record_reading`` sent by a meter), or a policy account, which is no member
  (``tokens.mint``, ``settlement.withdraw_grid``, ``policies.set_policy``), as its `Admit`
  rule allows;
- ``member``: only an active member (everything else).

Finer rules (only the regulator approves, only the issuer mints) are checked
inside the method and refused with `NotAuthorised`.

Admission (`Registry.admit`, before a transaction enters the mempool or the ordering log)
keeps out of every block what would only be refused there: a ``member`` method from a
sender who is not an active member, and an ``anyone`` method unless its `Admit` rule lets
the sender in (without a rule, members only). So a key that is not a member can have
nothing written but a well-formed application, one at a time, or a bound meter's reading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

from gridledger.ledger import (
    Context,
    Genesis,
    InvalidArguments,
    StateReader,
    UnknownContract,
    UnknownMethod,
)


class Access(StrEnum):
    ANYONE = "anyone"
    MEMBER = "member"


Handler = Callable[[Context, Any], None]
GenesisHook = Callable[[Context, Genesis], None]
MemberCheck = Callable[[StateReader, str], None]
Screen = Callable[[Mapping[str, Any]], None]
"""Checks a method's raw arguments at admission; raises a `ContractError` to keep the
transaction out of every block (for what must never be stored, such as personal data)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """A call of an ``anyone`` method at admission, as its `Admit` rule sees it."""

    state: StateReader
    """The committed state (admission reads it; it never writes)."""
    sender: str
    sender_key: bytes
    args: Mapping[str, Any]
    """The raw arguments, not yet converted to the method's type."""
    outstanding: int
    """The sender's transactions admitted and not yet committed (0 where a node cannot
    know: with nats ordering, other peers admit too)."""


Admit = Callable[[Submission], None]
"""Who may have a call of an ``anyone`` method written into a block: returns to admit it,
raises a `TransactionError` (`NotAMember`, or a contract's refusal) to keep it out."""


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    args_type: type[msgspec.Struct]
    handler: Handler
    access: Access
    doc: str
    screen: Screen | None = None
    admit: Admit | None = None
    """For an ``anyone`` method: who may send it (see `Registry.admit`)."""


@dataclass(slots=True)
class Contract:
    """A named contract: its methods and the hook that writes its genesis state."""

    name: str
    methods: dict[str, Method] = field(default_factory=dict)
    genesis_hook: GenesisHook | None = None

    def method(
        self,
        args_type: type[msgspec.Struct],
        access: Access = Access.MEMBER,
        screen: Screen | None = None,
        admit: Admit | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator: register a function as a method named after the function."""

        def register(handler: Handler) -> Handler:
            name = handler.__name__.removesuffix("_")
            doc = (handler.__doc__ or "").strip()
            self.methods[name] = Method(name, args_type, handler, access, doc, screen, admit)
            return handler

        return register

    def genesis(self, hook: GenesisHook) -> GenesisHook:
        """Decorator: register the function that writes this contract's genesis state."""
        self.genesis_hook = hook
        return hook


def convert_arguments(contract: str, method: Method, args: Mapping[str, Any]) -> Any:
    """Turn the raw argument map into the method's typed arguments, naming any bad field."""
    try:
        return msgspec.convert(dict(args), method.args_type, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidArguments(contract, method.name, str(error)) from error


class Registry:
    """The set of contracts a chain runs; implements the ledger's `Dispatcher`."""

    def __init__(self, contracts: Sequence[Contract], member_check: MemberCheck) -> None:
        self.contracts: dict[str, Contract] = {c.name: c for c in contracts}
        self._order = [c.name for c in contracts]
        self._member_check = member_check

    def method_of(self, contract: str, method: str) -> Method:
        found = self.contracts.get(contract)
        if found is None:
            raise UnknownContract(contract)
        entry = found.methods.get(method)
        if entry is None:
            raise UnknownMethod(contract, method)
        return entry

    def check_access(self, state: StateReader, sender: str, contract: str, method: str) -> None:
        entry = self.method_of(contract, method)
        if entry.access is Access.MEMBER:
            self._member_check(state, sender)

    def admit(
        self,
        state: StateReader,
        sender: str,
        sender_key: bytes,
        call: tuple[str, str, Mapping[str, Any]],
        outstanding: int = 0,
    ) -> None:
        """Refuse at admission, before any block, what must not be written: raise the
        `TransactionError` that says why.

        `call` is (contract, method, raw arguments). A ``member`` method needs an active
        member (the standing memo of `MemberCheck` makes that a dictionary look-up); an
        ``anyone`` method its `Admit` rule, or without one an active member too; then the
        method's `Screen` checks the arguments. `outstanding` counts the sender's
        transactions admitted and not yet committed.
        """
        contract, method, args = call
        entry = self.method_of(contract, method)
        if entry.access is Access.ANYONE and entry.admit is not None:
            entry.admit(Submission(state, sender, sender_key, args, outstanding))
        else:
            self._member_check(state, sender)
        if entry.screen is not None:
            entry.screen(args)

    def dispatch(self, context: Context, contract: str, method: str, args: dict[str, Any]) -> None:
        entry = self.method_of(contract, method)
        entry.handler(context, convert_arguments(contract, entry, args))

    def apply_genesis(self, context: Context, genesis: Genesis) -> None:
        for name in self._order:
            hook = self.contracts[name].genesis_hook
            if hook is not None:
                hook(context, genesis)

    def describe(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every method with its access rule, argument schema and documentation."""
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for name in self._order:
            result[name] = {
                method.name: {
                    "access": str(method.access),
                    "doc": method.doc,
                    "arguments": msgspec.json.schema(method.args_type),
                }
                for method in self.contracts[name].methods.values()
            }
        return result
