"""The local Kafka launcher through the CLI, on a throw-away broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from confluent_kafka.admin import AdminClient

from mllineage.local import free_port


def test_kafka_start_status_stop(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MLLINEAGE_KAFKA_INSTANCE_DIR": str(tmp_path / "kafka"),
        "MLLINEAGE_KAFKA_PORT": str(port),
        "MLLINEAGE_KAFKA_CONTROLLER_PORT": str(free_port()),
    }

    def kafka(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mllineage.cli", "kafka", command],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    down = kafka("status")
    assert down.returncode == 3 and down.stdout.strip() == "Kafka is not running"
    try:
        started = kafka("start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("started in")
        assert f"bootstrap 127.0.0.1:{port}" in started.stdout
        again = kafka("start")
        assert again.stdout.startswith("already running, nothing started")
        status = kafka("status")
        assert status.returncode == 0 and status.stdout.startswith("Kafka 4.")

        metadata = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"}).list_topics(timeout=30)
        assert [(b.host, b.port) for b in metadata.brokers.values()] == [("127.0.0.1", port)]
        assert (tmp_path / "kafka" / "data" / "meta.properties").exists()  # formatted (KRaft)
    finally:
        stopped = kafka("stop")
    assert stopped.stdout.strip() == "stopped Kafka"
    assert kafka("status").returncode == 3
