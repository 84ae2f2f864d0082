"""`gridledger bench`: a load generator that reports what Hyperledger Caliper reports.

The bench runs in its own process and talks to a node only through its API:

1. Without ``--url`` it writes a temporary community (a regulator, an operator
   and ``accounts`` funded, active members), starts ``gridledger node`` on it
   as a separate process on a free loopback port, and stops it afterwards (by
   its pid: SIGTERM, then SIGKILL after a bound). With ``--url`` it loads a
   node that is already running; it then needs the community directory
   (``--dir``) for the members' key files, and uses the active members with
   funds as senders.
2. It signs every transaction before the clock starts (in worker
   processes), so signing never throttles the send rate: token transfers
   (``--workload transfer``), or market orders for one period that stays open
   through the run (``--workload orders``, `gridledger.bench.orders`; the JSON
   line then also holds what the run did to that period's book).
3. It sends at a fixed rate: every `TICK_S` it submits the transactions that
   are due as one MessagePack batch (``POST /v1/transactions/batch``). The
   senders are split into `LANES` lanes with one request in flight each, so a
   sender's transactions always reach the node in nonce order; a lane that
   falls behind sends what is due in its next batch (the offered rate is kept
   as long as the node answers).
4. It learns commits from the block stream (``/v1/stream``, one WebSocket
   message per committed block listing its transaction ids and result codes).
   Latency = the time the commit message arrived - the time the transaction
   was sent.

Figures, as Caliper defines them: successes (committed with result ``ok``),
failures (refused at admission + committed with another result code + not
committed before the drain timeout), send rate = sent / (last send - first
send), throughput = successes / (last commit - first send), and max, min,
average, p50, p95 and p99 latency of the successes. They are printed as a
table and, as the last line of output, as one line of JSON.
"""

from gridledger.bench.community import Sender, sign_all
from gridledger.bench.report import percentile
from gridledger.bench.runner import run_bench
from gridledger.bench.settings import BenchError

__all__ = ["BenchError", "Sender", "percentile", "run_bench", "sign_all"]
