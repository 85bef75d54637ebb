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

Sure = Annotated[
    bool,
    typer.Option("--yes", "--force", help="Go ahead even when live endpoints lose an input."),
]


@app.command()
def check(
    uids: Annotated[
        list[str], typer.Argument(metavar="UID...", help="What to retire: uids, or names.")
    ],
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


@app.command()
def deprecate(
    uid: NameOrUid,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    replaced_by: Annotated[
        str | None, typer.Option(help="Its successor: a uid, or a name.")
    ] = None,
    at: EventTime = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Mark UID deprecated (still live), naming its successor."""
    with LineageClient(url, token) as client:
        done = client.deprecate(uid, reason, replaced_by, at)
    typer.echo(f"deprecated {done['uid']} at {done['event_time']}")


@app.command()
def retire(
    uid: NameOrUid,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    at: EventTime = None,
    yes: Sure = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Retire UID: out of the live graph from then on, its edges with it. When that takes an
    input from a live endpoint, it says which and retires only with --yes."""
    with LineageClient(url, token) as client:
        uid = client.resolve(uid)
        _confirm_hits(client, uid, "retiring", yes)
        done = client.retire(uid, reason, at)
    typer.echo(f"retired {done['uid']} at {done['event_time']}")


@app.command()
def restore(uid: NameOrUid, at: EventTime = None, url: Url = None, token: Token = None) -> None:
    """Undo UID's retirements older than --at."""
    with LineageClient(url, token) as client:
        done = client.restore(uid, at)
    typer.echo(f"restored {done['uid']} at {done['event_time']}")


@app.command()
def purge(
    uid: NameOrUid,
    yes: Annotated[
        bool, typer.Option("--yes", "--force", help="Confirm: this cannot be undone.")
    ] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Remove UID and its edges for good (admin scope); it says first which live endpoints
    would lose an input."""
    with LineageClient(url, token) as client:
        uid = client.resolve(uid, include_retired=True)
        if client.entity(uid, include_retired=True)["retired_at"] is None:
            _confirm_hits(client, uid, "purging", yes)
        if not yes:
            fail(f"purging {uid} cannot be undone; add --yes", 2)
        client.purge(uid)
    typer.echo(f"purged {uid}")


def _confirm_hits(client: LineageClient, uid: str, doing: str, yes: bool) -> None:
    """Say which live endpoints and models ``doing`` ``uid`` takes an input from; without
    ``yes``, stop there (exit 2) when it hits a live endpoint."""
    frame = client.what_if([uid])
    hit = frame.attrs["live_endpoints"]
    if not len(frame):
        return
    typer.echo(f"{doing.capitalize()} {uid} takes an input from {hit} live endpoint(s):")
    print_table(frame, ["role", "name", "owner", "loses", "replacement"])
    if hit and not yes:
        fail(f"{doing} {uid} would hit {hit} live endpoint(s); add --yes to go ahead", 2)


@app.command("end-edge")
def end_edge(
    source: Annotated[str, typer.Argument(help="The upstream end: a uid, or a name.")],
    target: Annotated[str, typer.Argument(help="The downstream end: a uid, or a name.")],
    edge_type: Annotated[str, typer.Option("--type", help="The edge type.")] = "ContributedTo",
    at: EventTime = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """End the edge SOURCE -TYPE-> TARGET, as when an endpoint stops serving a model."""
    with LineageClient(url, token) as client:
        done = client.end_edges([{"source": source, "target": target, "type": edge_type}], at)
    typer.echo(f"ended {source} -{edge_type}-> {target} at {done['event_time']}")
