"""The policies contract: the M-of-N policies of the accounts that hold power.

Two policy accounts matter to every community (DESIGN.md, Governance and money):
``issuer``, the currency issuer (``tokens.mint`` and ``tokens.burn``), and ``grid``,
the controller of the grid account (``settlement.withdraw_grid``). Each is an account
of its own, with its own address, balance and nonce, whose transactions are
authorised by a threshold of its keys (`gridledger.ledger.multisig`). A community
names them in genesis, under ``parameters.policies``::

    "policies": {
      "issuer": {"threshold": 2, "keys": ["<operator>", "<regulator>", "<treasurer>"]},
      "grid":   {"threshold": 2, "keys": ["<operator>", "<regulator>", "<treasurer>"]}
    }

(`gridledger init` writes the 2-of-3 of operator, regulator and treasurer.) A community
whose genesis names no policy keeps single-key power by role (``tokens.issuer_roles``,
the operator for the grid account): the chains started before policies existed, and
the simulations, whose runs never issue currency, keep their bytes and head hashes.

Who changes a policy: the policy itself (``set_policy``, sent by the policy account,
so signed by its threshold of its current keys). Not a vote: the keys that hold a
power consent to handing it over, and a vote that could replace them would make the
multi-signature no stronger than the ballot (DESIGN.md: the regulator never decides
alone, and neither does a majority over the treasury's keys). Policies are named in
genesis only; no new policy account is created later.

State: the policies themselves are the ledger's (``ledger/policy/<address>``), since
the ledger checks the signatures against them; this contract writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from gridledger.contracts.errors import ContractError
from gridledger.contracts.membership import check_active_member, standing
from gridledger.contracts.registry import Access, Contract, Submission
from gridledger.ledger import (
    Context,
    Genesis,
    NotAuthorised,
    Policy,
    ResultCode,
    StateReader,
    make_policy,
    policy_address,
    policy_problem,
    read_policy,
)
from gridledger.ledger.multisig import POLICY_NAMESPACE, policy_key

NAMESPACE = "policies"
contract = Contract(NAMESPACE)

ISSUER = "issuer"
"""The policy account that issues and burns the currency."""
GRID_CONTROLLER = "grid"
"""The policy account that may take money out of the grid account."""


class InvalidPolicy(ContractError):
    """A policy that is not well formed: its name, its shape, or a key that is no usable
    Ed25519 key (the size, threshold and repeated keys have rules of their own)."""

    code = ResultCode.INVALID_POLICY

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"policy {name!r}: {reason}")


class PolicySizeOutOfRange(InvalidPolicy):
    """A policy naming no key, or more than `MAX_POLICY_KEYS` (N is bounded)."""

    code = ResultCode.POLICY_SIZE_OUT_OF_RANGE


class PolicyThresholdOutOfRange(InvalidPolicy):
    """A threshold of 0 (anyone could act) or above N (nobody could)."""

    code = ResultCode.POLICY_THRESHOLD_OUT_OF_RANGE


class PolicyKeyRepeated(InvalidPolicy):
    """A key named twice (its one holder would count twice)."""

    code = ResultCode.POLICY_KEY_REPEATED


POLICY_RULES: dict[str, type[InvalidPolicy]] = {
    "size": PolicySizeOutOfRange,
    "threshold": PolicyThresholdOutOfRange,
    "repeated_key": PolicyKeyRepeated,
}
"""The refusal of each rule of `ledger.multisig.policy_problem`; the others: InvalidPolicy."""


class NotAPolicyAccount(ContractError):
    """A method only a policy account may call was sent by an ordinary account."""

    code = ResultCode.NOT_A_POLICY_ACCOUNT

    def __init__(self, address: str, action: str) -> None:
        self.address, self.action = address, action
        super().__init__(f"{address} is not a policy account; only one may {action}")


def parse_policy(name: str, spec: Mapping[str, Any]) -> Policy:
    """The policy a genesis section or an argument map describes; `InvalidPolicy` if unusable."""
    threshold = spec.get("threshold")
    keys_hex = spec.get("keys")
    if set(spec) - {"threshold", "keys"}:
        raise InvalidPolicy(name, f"unknown fields {sorted(set(spec) - {'threshold', 'keys'})}")
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise InvalidPolicy(name, "threshold must be an integer")
    if not isinstance(keys_hex, list) or not all(isinstance(k, str) for k in keys_hex):
        raise InvalidPolicy(name, "keys must be a list of hex Ed25519 public keys")
    try:
        keys = [bytes.fromhex(k) for k in keys_hex]
    except ValueError as error:
        raise InvalidPolicy(name, "a key is not hexadecimal") from error
    problem = policy_problem(name, threshold, keys)
    if problem is not None:
        rule, reason = problem
        raise POLICY_RULES.get(rule, InvalidPolicy)(name, reason)
    return make_policy(name, threshold, keys)


DEFAULT_THRESHOLD = 2
"""Of the operator, the regulator and the treasurer, how many sign (DESIGN.md)."""


def default_policies(
    operator_key: bytes, regulator_key: bytes, treasurer_key: bytes
) -> dict[str, dict[str, Any]]:
    """``parameters.policies`` of a new community: the issuer and the grid account, each
    `DEFAULT_THRESHOLD` of the operator's, the regulator's and a treasurer member's keys."""
    keys = [operator_key.hex(), regulator_key.hex(), treasurer_key.hex()]
    return {
        name: {"threshold": DEFAULT_THRESHOLD, "keys": list(keys)}
        for name in (GRID_CONTROLLER, ISSUER)
    }


def genesis_policies(genesis: Genesis) -> list[Policy]:
    """The policies `genesis` names (``parameters.policies``), by name; `InvalidPolicy` if bad."""
    section = genesis.parameters.get(NAMESPACE, {})
    policies = []
    for name in sorted(section):
        spec = section[name]
        if not isinstance(spec, dict):
            raise InvalidPolicy(str(name), "must be a map with threshold and keys")
        policies.append(parse_policy(str(name), spec))
    return policies


def write_policy(context: Context, policy: Policy) -> None:
    context.write(POLICY_NAMESPACE, policy_key(policy_address(policy.name)), policy)


def policy_account(state: StateReader, name: str) -> str | None:
    """The address of the policy account `name` if the community has it, else None."""
    address = policy_address(name)
    return address if read_policy(state, address) is not None else None


def require_policy_account(context: Context, name: str, action: str) -> None:
    """Refuse (`NotAuthorised`) unless the sender is the policy account `name`."""
    if context.sender != policy_address(name):
        found = standing(context.overlay, context.sender)
        role = "none" if found is None else found[1]
        raise NotAuthorised(context.sender, role, f"{action} (only policy {name!r} may)")


def admit_policy_account_or_member(submission: Submission) -> None:
    """Admission of a method a policy account or (in a community without one) a member sends.

    The method itself decides who of them holds the power; here only outsiders are
    kept out of every block.
    """
    if read_policy(submission.state, submission.sender) is None:
        check_active_member(submission.state, submission.sender)


def admit_policy_account(submission: Submission) -> None:
    if read_policy(submission.state, submission.sender) is None:
        raise NotAPolicyAccount(submission.sender, "change its policy")


@contract.genesis
def write_genesis(context: Context, genesis: Genesis) -> None:
    for policy in genesis_policies(genesis):
        write_policy(context, policy)


class SetPolicyArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    threshold: int
    keys: list[str]
    """Hex Ed25519 public keys, 1 to `MAX_POLICY_KEYS`, distinct."""


@contract.method(SetPolicyArgs, access=Access.ANYONE, admit=admit_policy_account)
def set_policy(context: Context, args: SetPolicyArgs) -> None:
    """A policy account replaces its own policy (signed by its current threshold of keys)."""
    current = read_policy(context.overlay, context.sender)
    if current is None:
        raise NotAPolicyAccount(context.sender, "change its policy")
    policy = parse_policy(current.name, {"threshold": args.threshold, "keys": args.keys})
    write_policy(context, policy)
    context.emit(
        NAMESPACE,
        "policy_changed",
        name=policy.name,
        account=context.sender,
        threshold=policy.threshold,
        keys=len(policy.keys),
        previous_threshold=current.threshold,
        previous_keys=len(current.keys),
    )
