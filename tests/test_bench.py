"""`gridledger bench` end to end, at a low rate, against a node in its own process.

Only correctness is checked here (the JSON line, every transfer committed);
speed is measured by the bench itself, never by a test (DESIGN.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

from gridledger.bench import Sender, percentile, sign_all
from gridledger.bench.report import us_per_transaction
from gridledger.crypto import keypair_from_name
from gridledger.ledger import encode_transaction, make_transaction, validate_transaction


def test_presigned_transfers_are_the_canonical_signed_transactions() -> None:
    alice, bob = keypair_from_name("alice", "bench-test"), keypair_from_name("bob", "bench-test")
    senders = [Sender(alice, 5, bob.address), Sender(bob, 0, alice.address)]
    raws = sign_all("bench-chain", senders, 4)
    expected = [
        make_transaction(
            keys, "bench-chain", nonce, "tokens", "transfer", {"to": to, "amount_micro": 1}
        )
        for keys, nonce, to in [
            (alice, 5, bob.address),
            (bob, 0, alice.address),
            (alice, 6, bob.address),
            (bob, 1, alice.address),
        ]
    ]
    assert raws == [encode_transaction(signed) for signed in expected]
    for raw in raws:
        validate_transaction(raw, "bench-chain")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_bench_runs_against_a_subprocess_node_and_ends_with_a_json_line() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridledger.cli",
            "bench",
            "--rate",
            "100",
            "--duration",
            "3",
            "--accounts",
            "10",
            "--drain-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    figures = json.loads(lines[-1])
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    assert figures["successes"] > 0
    assert figures["failures"] == 0
    assert figures["successes"] == figures["sent"] == 300
    assert set(figures["latency_ms"]) == {"max", "min", "avg", "p50", "p95", "p99"}
    for key in ("send_rate_tps", "throughput_tps", "duration_s", "rate", "accounts"):
        assert key in figures
    assert (
        figures["latency_ms"]["min"] <= figures["latency_ms"]["p50"] <= figures["latency_ms"]["max"]
    )
    # the node's own process (its threads, not its verify workers), per committed transaction
    assert figures["cpu_cores_busy"]["node_process_cpu_s"] >= 0
    assert figures["node_process_us_per_tx"] == round(
        figures["cpu_cores_busy"]["node_process_cpu_s"] / figures["successes"] * 1e6, 1
    )


def test_node_process_cpu_per_transaction_needs_a_node_and_commits() -> None:
    assert us_per_transaction({"node_process_cpu_s": 0.5}, 2500) == 200.0
    assert us_per_transaction({"node_process_cpu_s": 0.5}, 0) is None
    assert us_per_transaction({"machine": 1.0}, 2500) is None


def test_stream_message_is_the_json_of_committed_view() -> None:
    import msgspec

    from gridledger.api.stream import stream_message
    from gridledger.node import Node
    from gridledger.node.views import committed_view
    from tests.community import address, application_of, make_genesis, signed_raw

    node = Node.in_memory(make_genesis())
    raws = [
        signed_raw("alice", 0, "tokens", "transfer", {"to": address("bob"), "amount_micro": 5}),
        signed_raw(
            "alice", 1, "tokens", "transfer", {"to": address("bob"), "amount_micro": 10**12}
        ),
        signed_raw("bob", 0, "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        signed_raw(
            "erin",
            0,
            "membership",
            "apply",
            application_of("erin", "consumer")[0],
        ),
        signed_raw("regulator", 0, "membership", "approve", {"address": address("erin")}),
    ]
    admissions = node.submit_many(raws)
    assert all(a.error is None for a in admissions), admissions
    committed = node.cut_block()
    assert committed is not None
    assert len({r.code for r in committed.receipts}) > 1  # successes and refusals
    assert stream_message(committed) == msgspec.json.encode(committed_view(committed))


def test_verifier_gives_the_same_outcomes_in_threads_and_in_processes() -> None:
    from gridledger.ledger import TransactionError, make_transaction, sign_transaction
    from gridledger.node.verifier import PROCESS_BATCH, Verifier
    from tests.community import CHAIN_ID, key, signed_raw

    good = [
        signed_raw("alice", n, "tokens", "transfer", {"to": "gl" + "0" * 40, "amount_micro": 1})
        for n in range(PROCESS_BATCH)
    ]
    body = make_transaction(key("bob"), CHAIN_ID, 0, "tokens", "transfer", {}).transaction
    forged = encode_transaction(sign_transaction(body, key("bob")))[:-1] + b"\x00"
    wrong_chain = signed_raw("carol", 0, "tokens", "transfer", {}, chain_id="elsewhere")
    raws = [*good[:5], forged, b"\x93not a transaction", wrong_chain, *good[5:]]

    def described(outcomes: list[object]) -> list[str]:
        return [
            f"{type(o).__name__}: {o}" if isinstance(o, TransactionError) else repr(o)
            for o in outcomes
        ]

    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        in_threads = verifier.check(raws)  # threads unless processes are enabled
        verifier.start_processes_and_wait()
        in_processes = verifier.check(raws)
        again = verifier.check(raws)  # with the keys now remembered
    finally:
        verifier.close()
    expected = []
    for raw in raws:
        try:
            expected.append(validate_transaction(raw, CHAIN_ID))
        except TransactionError as error:
            expected.append(error)
    assert described(in_threads) == described(expected)
    assert described(in_processes) == described(expected)
    assert described(again) == described(expected)
    assert sum(isinstance(o, TransactionError) for o in expected) == 3


def test_orders_workload_places_orders_that_commit_and_match() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridledger.cli",
            "bench",
            "--workload",
            "orders",
            "--rate",
            "100",
            "--duration",
            "2",
            "--accounts",
            "10",
            "--drain-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    figures = json.loads(lines[-1])
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    assert figures["workload"] == "orders"
    assert figures["successes"] == figures["sent"] == 200
    market = figures["market"]
    assert market["mechanism"] == "continuous"
    assert market["orders"] == 200  # every order reached the period's book
    assert market["trades"] > 0 and market["traded_wh"] > 0  # some crossed and traded
    assert 0 < market["open_orders"] < 200  # and some rest


def test_orders_are_for_a_period_open_through_the_run_and_alternate_sides() -> None:
    from gridledger.bench.orders import GATE_CLOSURE_SECONDS, MARGIN_S, open_period, order_args

    now_s, run_s = 1_800_000_000, 120.0
    period = open_period(now_s, 3600, GATE_CLOSURE_SECONDS, run_s)
    assert period * 3600 - GATE_CLOSURE_SECONDS >= now_s + run_s + MARGIN_S
    assert (period - 1) * 3600 - GATE_CLOSURE_SECONDS < now_s + run_s + MARGIN_S
    alice, bob = keypair_from_name("alice", "bench-test"), keypair_from_name("bob", "bench-test")
    senders = [Sender(alice, 0, bob.address, "buy"), Sender(bob, 3, alice.address, "sell")]
    raws = sign_all("bench-chain", senders, 4, period)
    expected = [
        make_transaction(
            keys, "bench-chain", nonce, "market", "place_order", order_args(i, side, period)
        )
        for i, (keys, nonce, side) in enumerate(
            [(alice, 0, "buy"), (bob, 3, "sell"), (alice, 1, "buy"), (bob, 4, "sell")]
        )
    ]
    assert raws == [encode_transaction(signed) for signed in expected]
    assert order_args(7, "buy", period) == order_args(7, "buy", period)  # deterministic


def test_reads_workload_signs_every_read_and_reports_node_cpu_per_read() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridledger.cli",
            "bench",
            "--workload",
            "reads",
            "--rate",
            "60",
            "--duration",
            "2",
            "--accounts",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    figures = json.loads(lines[-1])
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    assert figures["workload"] == "reads"
    assert figures["sent"] == figures["answered"] == 120  # no 401 or 403: every read signed
    assert set(figures["statuses"]) <= {"200", "404"}  # 404: no statement before settlement
    assert figures["node_process_us_per_read"] is None or figures["node_process_us_per_read"] > 0


def test_reads_go_round_robin_over_members_and_their_own_records() -> None:
    from gridledger.bench.reads import read_paths, schedule_reads

    alice, bob = keypair_from_name("alice", "bench-test"), keypair_from_name("bob", "bench-test")
    reads = schedule_reads([alice, bob], 7, 6)
    assert reads == [
        (0, read_paths(alice.address, 7)[0]),
        (1, read_paths(bob.address, 7)[0]),
        (0, read_paths(alice.address, 7)[1]),
        (1, read_paths(bob.address, 7)[1]),
        (0, read_paths(alice.address, 7)[2]),
        (1, read_paths(bob.address, 7)[2]),
    ]
    assert read_paths(alice.address, 7)[1] == f"/v1/settlement/periods/7/statements/{alice.address}"


def _bench(*options: str) -> tuple[int, dict[str, object]]:
    completed = subprocess.run(
        [sys.executable, "-m", "gridledger.cli", "bench", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    return completed.returncode, json.loads(lines[-1])


def test_the_bench_node_cuts_blocks_of_the_size_asked() -> None:
    code, figures = _bench(
        "--rate", "100", "--duration", "2", "--accounts", "10", "--block-transactions", "7"
    )
    assert code == 0, figures
    assert figures["successes"] == 200
    blocks = figures["blocks"]
    assert isinstance(blocks, int) and blocks >= 200 // 7  # never more than 7 in a block


def test_block_transactions_out_of_range_or_with_url_is_refused() -> None:
    code, figures = _bench("--block-transactions", "0", "--duration", "1")
    assert code == 2 and figures == {"error": "--block-transactions must be at least 1, got 0"}
    code, figures = _bench(
        "--url", "http://127.0.0.1:9", "--block-transactions", "10", "--duration", "1"
    )
    assert code == 2
    assert figures == {"error": "--block-transactions sets up the bench's own node; not with --url"}
