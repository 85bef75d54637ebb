"""The API's Prometheus registry and the write path's series, which the store records into
without knowing HTTP (the HTTP series and ``/metrics`` are in api/metrics.py).

Module-level, as prometheus_client expects: they only count, and they are one set per process.
Under ``mllineage serve --workers N`` (PROMETHEUS_MULTIPROC_DIR set before the workers
start) each worker's values go to files in that folder, which ``/metrics`` sums.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry()

_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

QUEUE_WAIT = Histogram(
    "mllineage_write_queue_wait_seconds",
    "How long a committed write waited for this process's write turn",
    buckets=_SECONDS,
    registry=REGISTRY,
)
TRANSACTION_SECONDS = Histogram(
    "mllineage_write_transaction_seconds",
    "Time in a committed write transaction (the driver's retries included)",
    buckets=_SECONDS,
    registry=REGISTRY,
)
TRANSACTION_ROWS = Histogram(
    "mllineage_write_transaction_rows",
    "Rows a committed write transaction sent: nodes + edges + runs",
    buckets=(1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000),
    registry=REGISTRY,
)
GROUP_SIZE = Histogram(
    "mllineage_write_group_size",
    "Write requests that shared one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
    registry=REGISTRY,
)


def record_write(group_size: int, rows: int, queue_wait_s: float, tx_s: float) -> None:
    """One committed write transaction."""
    GROUP_SIZE.observe(group_size)
    TRANSACTION_ROWS.observe(rows)
    QUEUE_WAIT.observe(queue_wait_s)
    TRANSACTION_SECONDS.observe(tx_s)
