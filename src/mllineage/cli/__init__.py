"""The ``mllineage`` command: serve the API, manage the local Neo4j and Kafka, consume a topic,
and talk to the service.

The commands that talk to the service are a thin layer over ``mllineage.client``: they ask it
and format its answers. They find the service from ``--url`` or ``MLLINEAGE_URL`` and the
token from ``--token`` or ``MLLINEAGE_TOKEN``. Each module here adds one group of commands
to the one Typer ``app`` of ``common``.
"""

from __future__ import annotations

import importlib
import sys

import typer

from mllineage.cli.common import USER_ERRORS, app

__all__ = ["app", "main"]

# The command modules of each side, imported for the commands they add to ``app``. An install
# without one side's extra (``mllineage[client]``, ``mllineage[server]``) has the other's.
SIDES = {
    "client": ("lineage", "lifecycle", "reports", "runs", "sync"),
    "server": ("local", "kafka"),
}
MISSING: dict[str, str] = {}  # extra -> the package it lacks
for _extra, _modules in SIDES.items():
    try:
        for _module in _modules:
            importlib.import_module(f"mllineage.cli.{_module}")
    except ModuleNotFoundError as exc:
        if (exc.name or "mllineage").partition(".")[0] == "mllineage":
            raise  # our own module is missing: a bug, not an extra left out
        MISSING[_extra] = exc.name or "?"


def main() -> None:
    """The console script: errors the user can act on are a line or a few, no traceback. (A
    reader that goes away, as ``| head`` does, ends the command quietly: Click sees to it.)"""
    if len(sys.argv) > 1 and MISSING and sys.argv[1] not in _command_names():
        for extra, package in MISSING.items():
            typer.echo(
                f"error: `mllineage {sys.argv[1]}` may be a command of the {extra} side, which "
                f"this install lacks (no {package}): pip install 'mllineage[{extra}]'",
                err=True,
            )
        sys.exit(2)
    try:
        app()
    except tuple(USER_ERRORS) as exc:
        say = next(say for kind, say in USER_ERRORS.items() if isinstance(exc, kind))
        typer.echo(say(exc), err=True)
        sys.exit(1)


def _command_names() -> set[str]:
    names: set[str] = {
        command.name or command.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        for command in app.registered_commands
    }
    groups = {group.name or "" for group in app.registered_groups}
    return names | groups | {"--help", "-h", "--version"}
