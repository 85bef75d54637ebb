"""``mllineage report NAME``: a governance report as a table (or its items as JSON)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mllineage.analysis.reports import COLUMNS, SUMMARIES, Report
from mllineage.cli.common import AsJson, AsOf, Token, Url, app, fail, print_table
from mllineage.client import LineageClient

# What the table shows of each report's DataFrame (the JSON has everything).
SHOWN: dict[Report, list[str]] = {
    Report.orphans: ["uid", "owner", "last_seen"],
    Report.deprecated_in_use: ["uid", "replaced_by", "consumer", "consumer_owner", "depth"],
    Report.duplicate_features: ["uid", "duplicate", "data_sources", "columns"],
    Report.skew: COLUMNS[Report.skew],
}
NAMES = ", ".join(report.value for report in Report)


@app.command(help="A governance report: " + NAMES + ".")
def report(
    name: Annotated[str, typer.Argument(metavar="NAME", help=NAMES)],
    namespace: Annotated[str | None, typer.Option(help="Only subjects in it.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only subjects they own.")] = None,
    as_of: AsOf = None,
    as_json: AsJson = False,
    url: Url = None,
    token: Token = None,
) -> None:
    try:
        chosen = Report(name)
    except ValueError:
        fail(f"no report named {name!r}; the reports are: {NAMES}", 2)
    with LineageClient(url, token) as client:
        if as_json:
            items = client.report_items(chosen.value, namespace, owner, as_of)
            typer.echo(json.dumps(items, indent=2))
            return
        frame = client.report(chosen.value, namespace, owner, as_of)
    typer.echo(f"{chosen.value}: {SUMMARIES[chosen]}")
    if frame.empty:
        typer.echo("nothing to report")
        return
    for column in ("data_sources", "columns"):
        if column in frame:
            frame[column] = frame[column].map(", ".join)
    print_table(frame, SHOWN[chosen])
