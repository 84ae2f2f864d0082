"""`gridledger init` and `gridledger keys new|list|show`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from gridledger.node.community import DEMO_MEMBERS
from gridledger.node.keystore import read_key
from tests.cli.helpers import fails, ok, ok_json
from tests.node.harness import one_line


def test_init_writes_genesis_keys_and_chain(tmp_path: Path) -> None:
    directory = tmp_path / "new"
    output = one_line(ok("init", "--dir", str(directory), "--chain-id", "cli-test"))
    assert "community cli-test written to" in output and "gridledger node --dir" in output
    genesis = json.loads((directory / "genesis.json").read_text())
    assert genesis["chain_id"] == "cli-test"
    assert [m["name"] for m in genesis["members"]] == [name for name, _, _ in DEMO_MEMBERS]
    assert (directory / "chain.sqlite").exists()
    for member in genesis["members"]:
        path = directory / "keys" / f"{member['name']}.key"
        assert read_key(path).public_key.hex() == member["public_key"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (
            "a key file is readable by its owner only"
        )
    assert "already exists" in fails("init", "--dir", str(directory))


def test_keys_new_list_show(community: Path) -> None:
    directory = str(community)
    output = one_line(ok("keys", "new", "erin", "--dir", directory))
    erin = read_key(community / "keys" / "erin.key")
    assert erin.address in output and erin.public_key.hex() in output
    assert "refusing to overwrite" in fails("keys", "new", "erin", "--dir", directory)

    listing = ok("keys", "list", "--dir", directory)
    for name in ("alice", "bob-meter", "erin", "regulator"):
        assert name in listing

    shown = ok_json("keys", "show", "erin", "--dir", directory)
    assert shown == {
        "name": "erin",
        "address": erin.address,
        "public_key": erin.public_key.hex(),
        "encrypted": False,
    }
    assert erin.seed.hex() not in ok("keys", "show", "erin", "--dir", directory)
    by_path = ok_json("keys", "show", str(community / "keys" / "erin.key"), "--dir", directory)
    assert by_path["address"] == erin.address
    assert "no such key file" in fails("keys", "show", "nobody", "--dir", directory)

    (community / "keys" / "broken.key").write_text("{not json")
    (community / "keys" / "broken.key").chmod(0o600)
    assert "broken" in ok("keys", "list", "--dir", directory)  # listed, marked, no crash
    assert "not a gridledger key file" in fails("keys", "show", "broken", "--dir", directory)
