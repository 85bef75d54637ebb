"""``mllineage sync <tool>``: bring what a tool's own registry knows into the graph."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from mllineage.cli.common import USER_ERRORS, Token, Url, app
from mllineage.client import LineageAPIError, LineageClient
from mllineage.integrations import feast, mlflow

sync_app = typer.Typer(
    help="Bring a tool's registry into the graph (docs/feast.md, docs/mlflow.md).",
    no_args_is_help=True,
)
app.add_typer(sync_app, name="sync")
USER_ERRORS[feast.FeastError] = "error: {}".format
USER_ERRORS[mlflow.MlflowError] = "error: {}".format
FULL_EVERY = 10  # --watch: one full pass in ten


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
    for edge in report.ended:
        typer.echo(f"ended {edge} (no longer read)")
    for uid in report.retired:
        typer.echo(f"retired {uid} ({feast.RETIRED_BECAUSE})")


@sync_app.command("mlflow")
def sync_mlflow(
    tracking_uri: Annotated[
        str,
        typer.Option(
            "--tracking-uri", envvar="MLFLOW_TRACKING_URI", metavar="URI", help="The server."
        ),
    ],
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", metavar="NAME", help="Only this experiment (repeatable)."),
    ] = None,
    namespace: Annotated[
        str,
        typer.Option(
            envvar="MLLINEAGE_MLFLOW_NAMESPACE",
            metavar="NS",
            help="The namespace of the runs and models (the webhooks' too).",
        ),
    ] = "default",
    watch: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", min=1, help="Sync again every SECONDS, until stopped."),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Read only the runs started since the newest the graph has (the registry "
            "whole); a full pass also retires what deleted runs made. --watch passes are "
            "incremental but every tenth.",
        ),
    ] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Send an MLflow server's runs (params, metrics, dataset inputs, Feast tags), registered
    versions and aliases; an alias that moved ends its old serving edge, a deleted version is
    retired. Run it on a schedule, or with --watch."""
    progress, passes = sys.stderr.isatty(), 0
    with LineageClient(url, token) as client:
        while True:
            full = not incremental and passes % FULL_EVERY == 0
            try:
                report = mlflow.sync(
                    client, tracking_uri, experiment or (), namespace, progress, full=full
                )
            except (mlflow.MlflowError, LineageAPIError) as exc:
                if watch is None or passes == 0:
                    raise  # said in a line by the CLI (USER_ERRORS)
                typer.echo(f"error: {exc}; trying again in {watch:g} s", err=True)
                time.sleep(watch)
                continue
            passes += 1
            typer.echo(
                f"MLflow {tracking_uri} ({'full' if report.full else 'incremental'}): "
                f"{report.experiments} experiments, {report.runs} runs, "
                f"{report.versions} versions; {report.events} events sent"
            )
            for line in report.moved:
                typer.echo(f"moved {line}")
            for uid in report.retired:
                typer.echo(f"retired {uid} ({mlflow.RETIRED_BECAUSE})")
            for uid in report.deprecated:
                typer.echo(f"deprecated {uid}")
            if watch is None:
                return
            progress, incremental = False, False
            time.sleep(watch)
