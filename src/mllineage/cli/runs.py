"""Commands on runs: list a process's runs (and plot a metric), and the drift alert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mllineage.analysis.drift import DEFAULT_SIGMA
from mllineage.cli.common import (
    AsJson,
    NameOrUid,
    Token,
    Url,
    api_error_text,
    app,
    fail,
    print_table,
)
from mllineage.client import LineageAPIError, LineageClient


@app.command()
def runs(
    uid: NameOrUid,
    experiment: Annotated[str | None, typer.Option(help="Only this experiment's runs.")] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Show this metric (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="The newest this many runs.")] = 30,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of the first --metric over the runs.")
    ] = None,
    as_json: AsJson = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """The runs of a process, newest first: status, start, and the metrics asked for."""
    metrics = metric or []
    if plot and not metrics:
        fail("--plot draws a metric: name it with --metric", code=2)
    with LineageClient(url, token) as client:
        uid = client.resolve(uid)
        if as_json:
            pages = client.run_pages(limit, process=uid, experiment=experiment)
            typer.echo(json.dumps(list(pages), indent=2))
            return
        table = client.runs(uid, experiment=experiment, limit=limit)
        if plot:
            client.plot_metric(uid, metrics[0], plot, limit=limit)
    columns = ["id", "status", "started_at", "experiment"]
    for name in metrics:
        column = f"metrics.{name}"
        if column not in table:
            table[column] = None
        columns.append(column)
    table = table.astype(object).where(table.notna(), None)
    print_table(table, columns)
    if plot:
        typer.echo(f"wrote {plot}")


@app.command()
def drift(
    uid: NameOrUid,
    metric: Annotated[str, typer.Option("--metric", "-m", help="The metric to watch.")],
    window: Annotated[
        int, typer.Option(min=3, help="How many runs before the newest make the band.")
    ] = 10,
    sigma: Annotated[
        float | None,
        typer.Option(min=0, help=f"Band: mean ± this many stdevs (default {DEFAULT_SIGMA})."),
    ] = None,
    min_drop: Annotated[
        float | None,
        typer.Option(min=0, help="Band: anything not more than this far below the mean."),
    ] = None,
    as_json: AsJson = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Does the newest run's metric fall outside the band of the runs before it? Exit 0 when
    not, 1 when it does (and say what changed upstream since the last good run), 2 when the
    check cannot be made (bad usage, an unknown process, the service unreachable)."""
    if sigma is not None and min_drop is not None:
        fail("give --sigma or --min-drop, not both", code=2)
    try:
        with LineageClient(url, token) as client:
            report = client.drift(uid, metric, window=window, sigma=sigma, min_drop=min_drop)
    except LineageAPIError as exc:
        typer.echo(api_error_text(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.text())
    raise typer.Exit(1 if report.drifted else 0)
