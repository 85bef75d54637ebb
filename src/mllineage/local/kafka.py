"""Provision, start, watch and stop a real Apache Kafka broker without Docker.

One node in KRaft mode (broker and controller in one process, no ZooKeeper), listening on
127.0.0.1 only. Its jars come from Maven Central (``org.apache.kafka:kafka_2.13``), resolved
once by the same pinned Maven as the local Neo4j (``local/java.py``); an instance folder holds
its ``server.properties``, data, logs and pid file, and its storage is formatted with
``kafka.tools.StorageTool`` before the first start.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from mllineage.local.java import (
    JavaServer,
    LocalServerError,
    jar_version,
    port_open,
    resolve_jars,
)
from mllineage.settings import Settings

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
LOG4J_VERSION = "2.25.3"  # the binding that sends the broker's slf4j logs to the console log
# The flags of Kafka's own kafka-server-start.sh.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
]
# Warnings and errors only, but the line that says the broker is up.
LOG4J2 = """\
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = console
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
"""


class KafkaLocalError(LocalServerError):
    """A local-Kafka step failed; the message says what to do about it."""


@dataclass(frozen=True)
class KafkaStatus:
    running: bool
    pid: int | None
    bootstrap: str
    version: str | None

    def describe(self) -> str:
        if not self.running:
            return "Kafka is not running"
        return f"Kafka {self.version or ''} is running (pid {self.pid}): bootstrap {self.bootstrap}"


def provision(settings: Settings) -> Path:
    """Download the broker's jars with Maven, once; returns the folder of jars."""
    versions = {"KAFKA_VERSION": settings.kafka_version, "LOG4J_VERSION": LOG4J_VERSION}
    return resolve_jars(settings, settings.kafka_cache_dir, "kafka-pom.xml", versions, "Kafka")


def cluster_id() -> str:
    """A new cluster id as Kafka writes them: 16 random bytes, URL-safe base64, no padding
    (never starting with '-', which a command line would take for an option)."""
    while (text := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass
    return text


class LocalKafka(JavaServer):
    """One instance folder: ``conf/``, ``data/``, ``logs/``, ``run/`` under ``instance_dir``."""

    name = "kafka"
    marker = MAIN_CLASS
    product = "Kafka 4"
    error = KafkaLocalError

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.kafka_instance_dir)
        self.settings = settings

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    def status(self) -> KafkaStatus:
        pid = self.pid()
        version_file = self.dir / "run" / "version"
        version = version_file.read_text().strip() if version_file.exists() else None
        return KafkaStatus(pid is not None, pid, self.bootstrap, version)

    def write_config(self) -> Path:
        s = self.settings
        for sub in ("conf", "data", "logs", "run"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        controller = f"127.0.0.1:{s.kafka_controller_port}"
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{controller}",
            "listeners": f"PLAINTEXT://{self.bootstrap},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.dir / "data"),
            "num.partitions": "1",
            # One node: every internal topic has one replica, and few partitions start fast.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
        }
        (self.dir / "conf" / "log4j2.properties").write_text(LOG4J2)
        path = self.dir / "conf" / "server.properties"
        path.write_text(
            "# Written by mllineage (local/kafka.py); edits are overwritten at start.\n"
            + "".join(f"{key}={value}\n" for key, value in lines.items())
        )
        return path

    def _java(self, lib: Path, main: str, *args: str) -> list[str]:
        heap = self.settings.kafka_heap
        return [
            "java", f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
            f"-Dlog4j2.configurationFile={self.dir / 'conf' / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.dir / 'logs'}",
            "-cp", f"{lib}/*", main, *args,
        ]  # fmt: skip

    def _format_storage(self, lib: Path, config: Path) -> None:
        """Format the data folder for KRaft once (a formatted one keeps its cluster id)."""
        if (self.dir / "data" / "meta.properties").exists():
            return
        command = self._java(
            lib, STORAGE_TOOL, "format", "--cluster-id", cluster_id(), "--config", str(config)
        )
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.dir)
        if done.returncode != 0:
            raise KafkaLocalError(
                f"formatting Kafka's storage in {self.dir / 'data'} failed "
                f"(exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )

    @property
    def address(self) -> str:
        return self.bootstrap

    @property
    def start_timeout(self) -> float:
        return self.settings.kafka_start_timeout

    def ports(self) -> dict[str, int]:
        return {
            "MLLINEAGE_KAFKA_PORT": self.settings.kafka_port,
            "MLLINEAGE_KAFKA_CONTROLLER_PORT": self.settings.kafka_controller_port,
        }

    def prepare(self) -> tuple[list[str], str | None]:
        lib = provision(self.settings)
        config = self.write_config()
        self._format_storage(lib, config)
        return self._java(lib, MAIN_CLASS, str(config)), jar_version(lib, "kafka_2.13")

    def answers(self) -> bool:
        """The broker answers a metadata request."""
        return port_open(self.settings.kafka_port) and broker_answers(self.bootstrap)


def broker_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when a broker at ``bootstrap`` returns cluster metadata."""
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
    except Exception:  # KafkaException: no broker yet
        return False
    return bool(metadata.brokers)
