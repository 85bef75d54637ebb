"""The ``mllineage`` command: serve the API, manage the local Neo4j and Kafka, consume a topic,
and talk to the service.

The commands that talk to the service are a thin layer over ``mllineage.client``: they ask it
and format its answers. They find the service from ``--url`` or ``MLLINEAGE_URL`` and the
token from ``--token`` or ``MLLINEAGE_TOKEN``. Each module here adds one group of commands
to the one Typer ``app`` of ``common``.
"""

from __future__ import annotations

import sys

import typer

from mllineage.cli import kafka, lifecycle, lineage, local, runs
from mllineage.cli import reports as report_commands
from mllineage.cli.common import api_error_text, app
from mllineage.client import LineageAPIError
from mllineage.local import LocalServerError

__all__ = ["app", "main"]
_COMMANDS = (
    kafka,
    lifecycle,
    lineage,
    local,
    runs,
)  # imported for the commands they add to ``app``
_REPORT_COMMANDS = report_commands  # imported for the command it adds


def main() -> None:
    """The console script: errors the user can act on are a line or a few, no traceback. (A
    reader that goes away, as ``| head`` does, ends the command quietly: Click sees to it.)"""
    try:
        app()
    except LineageAPIError as exc:
        typer.echo(api_error_text(exc), err=True)
        sys.exit(1)
    except LocalServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
