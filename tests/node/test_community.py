"""Community directories and key files: the one writer behind init, demo, simulation, bench
and `network up`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gridledger.crypto import keypair_from_seed
from gridledger.ledger import GenesisError, load_genesis
from gridledger.node.community import (
    DEMO_MEMBERS,
    DEMO_TREASURER,
    METERED_ROLES,
    Founder,
    founding_genesis,
    init_community,
    write_community,
)
from gridledger.node.keystore import KeyFileError, find_key, read_key, write_key
from tests.community import key

SEED = bytes(range(32))
KEY_FILE = (
    "{\n"
    '  "name": "alice",\n'
    '  "seed": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",\n'
    '  "public_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",\n'
    '  "address": "gl56475aa75463474c0285df5dbf2bcab73da65135"\n'
    "}"
)


def test_a_key_file_has_a_fixed_format_and_is_private(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys", "alice", keypair_from_seed(SEED))
    assert path.read_text() == KEY_FILE, "existing key files must stay readable, byte for byte"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key(path).seed == SEED
    assert find_key(tmp_path, "alice").seed == SEED
    assert find_key(tmp_path, str(path)).seed == SEED
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_key(tmp_path / "keys", "alice", key("bob"))


def test_a_key_file_whose_public_key_is_not_its_seeds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forged.key"
    path.write_text(KEY_FILE.replace("03a107", "03a108"))
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="does not match the seed"):
        read_key(path)


def test_write_community_writes_genesis_and_every_key(tmp_path: Path) -> None:
    founders = [
        Founder("regulator", "regulator", key("regulator")),
        Founder("alice", "prosumer", key("alice"), 5_000_000, meter=key("alice-meter")),
    ]
    genesis = founding_genesis("c-1", 1_000, founders, {"tokens": {"issuer_roles": ["regulator"]}})
    write_community(tmp_path / "c", genesis, founders)
    assert load_genesis((tmp_path / "c" / "genesis.json").read_bytes()) == genesis
    alice = genesis.members[1]
    assert (alice.balance_micro, alice.meter_keys) == (
        5_000_000,
        [key("alice-meter").public_key.hex()],
    )
    for name in ("regulator", "alice", "alice-meter"):
        assert read_key(tmp_path / "c" / "keys" / f"{name}.key") == key(name)
    with pytest.raises(KeyFileError, match="already exists"):
        write_community(tmp_path / "c", genesis, founders)


def test_a_founder_outside_the_genesis_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    founders = [Founder("regulator", "regulator", key("regulator"))]
    genesis = founding_genesis("c-1", 1_000, founders, {})
    stranger = Founder("regulator", "regulator", key("someone else"))
    with pytest.raises(KeyFileError, match="'regulator' is not in this genesis"):
        write_community(tmp_path / "c", genesis, [stranger])
    no_regulator = [Founder("operator", "operator", key("operator"))]
    with pytest.raises(GenesisError, match="needs a regulator"):
        write_community(tmp_path / "c", founding_genesis("c-1", 1_000, no_regulator, {}), [])
    assert not (tmp_path / "c" / "keys").exists()
    assert not (tmp_path / "c" / "genesis.json").exists()


def test_the_demo_community_meters_the_trading_members(tmp_path: Path) -> None:
    genesis = init_community(tmp_path, "demo-1", 1_000)
    assert [(m.name, m.role, m.balance_micro) for m in genesis.members] == list(DEMO_MEMBERS)
    for member in genesis.members:
        assert read_key(tmp_path / "keys" / f"{member.name}.key").public_key.hex() == (
            member.public_key
        )
        metered = (tmp_path / "keys" / f"{member.name}-meter.key").exists()
        assert metered == (member.role in METERED_ROLES) == (len(member.meter_keys) == 1)


def test_the_demo_issuer_and_grid_are_two_of_operator_regulator_and_treasurer(
    tmp_path: Path,
) -> None:
    genesis = init_community(tmp_path, "demo-1", 1_000)
    keys = {m.name: m.public_key for m in genesis.members}
    expected = [keys["operator"], keys["regulator"], keys[DEMO_TREASURER]]
    policies = genesis.parameters["policies"]
    assert sorted(policies) == ["grid", "issuer"]
    for policy in policies.values():
        assert policy == {"threshold": 2, "keys": expected}


def test_an_existing_key_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    founders = [Founder("regulator", "regulator", key("regulator"), meter=key("meter"))]
    genesis = founding_genesis("c-1", 1_000, founders, {})
    write_key(tmp_path / "keys", "regulator-meter", key("meter"))
    with pytest.raises(KeyFileError, match=r"regulator-meter\.key: already exists"):
        write_community(tmp_path, genesis, founders)
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["regulator-meter.key"]
    assert not (tmp_path / "genesis.json").exists()
