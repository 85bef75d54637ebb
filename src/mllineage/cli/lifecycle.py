"""Lifecycle commands: deprecate, retire, restore, purge, end an edge, and the what-if gate."""

from __future__ import annotations

from typing import Annotated

import typer

from mllineage.cli.common import (
    AsOf,
    EventTime,
    NameOrUid,
    Token,
    Url,
    api_error_text,
    app,
    fail,
    print_table,
)
from mllineage.client import LineageAPIError, LineageClient

PANEL = "Lifecycle and time"  # where --help lists these commands


@app.command(rich_help_panel=PANEL)
def check(
    uids: Annotated[list[str], typer.Argument(metavar="UID...", help="The uids to retire.")],
    retire: Annotated[
        bool, typer.Option("--retire", help="Ask what retiring the UIDs would break.")
    ] = False,
    as_of: AsOf = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """A CI gate: exit 1 when retiring the UIDs would take an input from a live endpoint,
    0 when it would not, 2 when the question cannot be answered (bad input, no service)."""
    if not retire:
        fail("say what to check: mllineage check --retire UID [UID...]", 2)
    try:
        with LineageClient(url, token) as client:
            frame = client.what_if(uids, as_of=as_of)
    except LineageAPIError as exc:
        typer.echo(api_error_text(exc), err=True)
        raise typer.Exit(2) from None
    hit = frame.attrs["live_endpoints"]
    typer.echo(f"Retiring {', '.join(uids)} would hit {hit} live endpoint(s)")
    if len(frame):
        print_table(frame, ["role", "name", "owner", "depth", "loses", "replacement"])
        typer.echo(f"owners to notify: {', '.join(frame.attrs['owners']) or 'none recorded'}")
    if hit:
        raise typer.Exit(1)


@app.command(rich_help_panel=PANEL)
def deprecate(
    uid: NameOrUid,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    replaced_by: Annotated[str | None, typer.Option(help="uid of its successor.")] = None,
    at: EventTime = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Mark UID deprecated (still live), naming its successor."""
    with LineageClient(url, token) as client:
        done = client.deprecate(client.resolve(uid), reason, replaced_by, at)
    typer.echo(f"deprecated {done['uid']} at {done['event_time']}")


@app.command(rich_help_panel=PANEL)
def retire(
    uid: NameOrUid,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    at: EventTime = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Retire UID: out of the live graph from then on, its edges with it."""
    with LineageClient(url, token) as client:
        done = client.retire(client.resolve(uid), reason, at)
    typer.echo(f"retired {done['uid']} at {done['event_time']}")


@app.command(rich_help_panel=PANEL)
def restore(uid: NameOrUid, at: EventTime = None, url: Url = None, token: Token = None) -> None:
    """Undo UID's retirements older than --at."""
    with LineageClient(url, token) as client:
        done = client.restore(uid, at)
    typer.echo(f"restored {done['uid']} at {done['event_time']}")


@app.command(rich_help_panel=PANEL)
def purge(
    uid: NameOrUid,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Remove UID and its edges for good (admin scope)."""
    if not yes:
        fail(f"purging {uid} cannot be undone; add --yes", 2)
    with LineageClient(url, token) as client:
        client.purge(uid)
    typer.echo(f"purged {uid}")


@app.command("end-edge", rich_help_panel=PANEL)
def end_edge(
    source: Annotated[str, typer.Argument(help="uid of the upstream end.")],
    target: Annotated[str, typer.Argument(help="uid of the downstream end.")],
    edge_type: Annotated[str, typer.Option("--type", help="The edge type.")] = "ContributedTo",
    at: EventTime = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """End the edge SOURCE -TYPE-> TARGET (e.g. an endpoint stopped serving a model)."""
    with LineageClient(url, token) as client:
        done = client.end_edges([{"source": source, "target": target, "type": edge_type}], at)
    typer.echo(f"ended {source} -{edge_type}-> {target} at {done['event_time']}")
