"""``mllineage sync <tool>``: bring what a tool's own registry knows into the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mllineage.cli.common import USER_ERRORS, Token, Url, app
from mllineage.client import LineageClient
from mllineage.integrations import feast

sync_app = typer.Typer(
    help="Bring a tool's registry into the graph (docs/feast.md).", no_args_is_help=True
)
app.add_typer(sync_app, name="sync")
USER_ERRORS[feast.FeastMissing] = "error: {}".format


@sync_app.command("feast")
def sync_feast(
    repo_path: Annotated[
        Path,
        typer.Argument(
            metavar="REPO_PATH",
            help="The Feast repository: the folder of its feature_store.yaml.",
            exists=True,
            file_okay=False,
        ),
    ],
    url: Url = None,
    token: Token = None,
) -> None:
    """Send a Feast repository's registry (views and the sources each reads, services,
    owners) and retire what it no longer has. Run it after each `feast apply`."""
    with LineageClient(url, token) as client:
        report = feast.sync(client, str(repo_path))
    counts = ", ".join(f"{n} {what}" for what, n in report.objects.items())
    typer.echo(f"Feast project {report.project}: {counts}; {report.events} events sent")
    for uid in report.retired:
        typer.echo(f"retired {uid} ({feast.RETIRED_BECAUSE})")
