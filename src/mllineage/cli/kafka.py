"""Commands for Kafka: the local broker (no Docker), and the consumer that writes a topic's
lineage events into Neo4j."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Annotated

import typer

from mllineage.cli.common import app, settings_with
from mllineage.local import LocalKafka

kafka_app = typer.Typer(
    help="Manage the local Kafka broker (KRaft, no Docker).", no_args_is_help=True
)
app.add_typer(kafka_app, name="kafka")


@kafka_app.command("start")
def kafka_start() -> None:
    """Start the local Kafka (provisioning it the first time)."""
    began = time.monotonic()
    status, started = LocalKafka(settings_with()).start()
    if started:
        typer.echo(f"started in {time.monotonic() - began:.1f}s: {status.describe()}")
    else:
        typer.echo(f"already running, nothing started: {status.describe()}")


@kafka_app.command("stop")
def kafka_stop() -> None:
    """Stop the local Kafka."""
    typer.echo("stopped Kafka" if LocalKafka(settings_with()).stop() else "Kafka was not running")


@kafka_app.command("status")
def kafka_status() -> None:
    """Say whether the local Kafka runs (exit code 3 when it does not)."""
    status = LocalKafka(settings_with()).status()
    typer.echo(status.describe())
    if not status.running:
        raise typer.Exit(3)


@app.command("consume")
def consume_command(
    bootstrap: Annotated[
        str,
        typer.Option(envvar="MLLINEAGE_KAFKA_BOOTSTRAP", help="Kafka's bootstrap HOST:PORT."),
    ],
    topic: Annotated[str, typer.Option(help="The topic of lineage events.")],
    group: Annotated[str, typer.Option(help="The consumer group.")] = "mllineage",
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Messages per batch.")] = 500,
    batch_seconds: Annotated[
        float, typer.Option(min=0.01, help="How long a batch waits to fill.")
    ] = 1.0,
    max_backoff: Annotated[
        float, typer.Option(min=0.1, help="Longest wait between retries while Neo4j is down.")
    ] = 10.0,
    report_seconds: Annotated[
        float, typer.Option(min=0.1, help="How often the log reports progress and lag.")
    ] = 10.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.", show_default=False),
    ] = None,
) -> None:
    """Write a topic's lineage events into Neo4j, at least once (bad ones: <topic>.dlq).

    OpenLineage or native events, one per message; Neo4j from MLLINEAGE_NEO4J_*. SIGTERM
    finishes the batch in flight, commits it and stops.
    """
    from mllineage.kafka.consumer import Options, consume

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    options = Options(
        bootstrap, topic, group, batch_size, batch_seconds, max_backoff, report_seconds,
        metrics_port,
    )  # fmt: skip
    settings = settings_with()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await consume(options, settings, stop)

    asyncio.run(main())
