"""The ``mllineage`` command: serve the API, manage the local Neo4j, and talk to the service.

The commands that talk to the service are a thin layer over ``mllineage.client``: they ask it
and format its answers. They find the service from ``--url`` or ``MLLINEAGE_URL`` and the
token from ``--token`` or ``MLLINEAGE_TOKEN``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast, get_args

import pandas as pd
import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from mllineage.auth import Scope, append_key, new_key
from mllineage.client import BATCH_SIZE, LineageAPIError, LineageClient
from mllineage.domain import DEFAULT_WALK_DEPTH, MAX_DEPTH, MAX_EVENTS_PER_REQUEST, Kind
from mllineage.local import LocalNeo4j, Neo4jLocalError
from mllineage.serve import ServeError, serve
from mllineage.settings import Settings
from mllineage.traversal import Direction

app = typer.Typer(
    name="mllineage",
    help="Record and ask the lineage of ML work: serve the API, manage the local Neo4j, and "
    "talk to the service (--url or MLLINEAGE_URL, --token or MLLINEAGE_TOKEN).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create API keys.", no_args_is_help=True)
neo4j_app = typer.Typer(help="Manage the local Neo4j server (no Docker).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(neo4j_app, name="neo4j")

Url = Annotated[
    str | None,
    typer.Option(envvar="MLLINEAGE_URL", help="The service (default http://127.0.0.1:8000)."),
]
Token = Annotated[
    str | None, typer.Option(envvar="MLLINEAGE_TOKEN", help="API token.", show_default=False)
]
NameOrUid = Annotated[
    str, typer.Argument(metavar="UID", help="A uid, or a name that only one entity has.")
]
AsJson = Annotated[bool, typer.Option("--json", help="The raw answer, for scripts.")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="The graph as it stood then (ISO 8601, with a zone).")
]
IncludeRetired = Annotated[
    bool, typer.Option("--include-retired", help="Also what is retired or ended, marked.")
]
EventTime = Annotated[
    str | None, typer.Option("--at", help="When it happened (ISO 8601); default: now.")
]


# --- output ---------------------------------------------------------------------------------


def _table(frame: pd.DataFrame, columns: list[str]) -> None:
    """``columns`` of ``frame`` as a table on stdout; piped, one line per row however wide
    (a script greps whole lines) and without trailing blanks."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column == "depth" else "left")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*("-" if value is None else str(value) for value in row))
    width = None if sys.stdout.isatty() else 10_000
    console = Console(width=width, markup=False, highlight=False, emoji=False)
    with console.capture() as captured:
        console.print(table)
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid setting ({problems}); see MLLINEAGE_* in the README", code=2)


# --- serving and local servers --------------------------------------------------------------


@app.command("serve")
def serve_command(
    host: Annotated[
        str | None, typer.Option(help="Default $MLLINEAGE_HOST or 127.0.0.1.", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Default $MLLINEAGE_PORT or 8000.", show_default=False)
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    local_neo4j: Annotated[
        bool,
        typer.Option(
            "--local-neo4j",
            help="Start the local Neo4j first (provisioning it once); stop it on exit.",
        ),
    ] = False,
) -> None:
    """Run the HTTP API."""
    try:
        serve(_settings(host=host, port=port), local_neo4j=local_neo4j, log_level=log_level)
    except ServeError as exc:
        _fail(str(exc), code=2)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: read, write, admin.")] = "read",
    file: Annotated[Path | None, typer.Option(help="Append the key to this JSON file.")] = None,
) -> None:
    """Create an API key: prints its token once."""
    chosen = {scope.strip() for scope in scopes.split(",") if scope.strip()}
    if unknown := chosen - set(get_args(Scope)):
        raise typer.BadParameter(
            f"unknown scopes {sorted(unknown)}; use read, write and/or admin", param_hint="--scopes"
        )
    if not chosen:
        raise typer.BadParameter("name at least one of read, write, admin", param_hint="--scopes")
    token, key = new_key(name, cast(set[Scope], chosen))
    typer.echo(f"token (shown once, give it to the client as MLLINEAGE_TOKEN): {token}")
    if file:
        append_key(file, key)
        typer.echo(f"added {name!r} to {file} (set MLLINEAGE_API_KEYS_FILE={file})")
    else:
        entry = key.model_dump_json()
        typer.echo(f"its entry for MLLINEAGE_API_KEYS (a JSON list of these): {entry}")


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Start the local Neo4j (provisioning it the first time)."""
    began = time.monotonic()
    status, started = LocalNeo4j(_settings()).start()
    if started:
        typer.echo(f"started in {time.monotonic() - began:.1f}s: {status.describe()}")
    else:
        typer.echo(f"already running, nothing started: {status.describe()}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j."""
    typer.echo("stopped Neo4j" if LocalNeo4j(_settings()).stop() else "Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs (exit code 3 when it does not)."""
    status = LocalNeo4j(_settings()).status()
    typer.echo(status.describe())
    if not status.running:
        raise typer.Exit(3)


# --- talking to the service -----------------------------------------------------------------


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True, dir_okay=False, help="JSON (an event, an array, {events: [...]}) or JSONL."
        ),
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, max=MAX_EVENTS_PER_REQUEST, help="Events per transaction.")
    ] = BATCH_SIZE,
    url: Url = None,
    token: Token = None,
) -> None:
    """Post events from files; native and OpenLineage events are told apart one by one.
    Every valid event lands; each one that fails is reported as FILE:LINE: reason (exit 1)."""
    with LineageClient(url, token) as client:
        report = client.ingest(*files, batch_size=batch_size)
    for failed in report.failed:
        typer.echo(str(failed), err=True)
    typer.echo(
        f"ingested {report.events} events: {report.nodes} nodes ({report.nodes_created} new), "
        f"{report.edges} edges ({report.edges_created} new); {len(report.failed)} failed"
    )
    if report.failed:
        raise typer.Exit(1)


@app.command()
def lineage(
    uid: NameOrUid,
    direction: Annotated[Direction, typer.Option(help="Which way to walk.")] = Direction.downstream,
    depth: Annotated[int, typer.Option(min=1, max=MAX_DEPTH, help="Hops.")] = DEFAULT_WALK_DEPTH,
    kinds: Annotated[
        str | None, typer.Option(help="Return only these kinds, e.g. Model,Endpoint.")
    ] = None,
    as_of: AsOf = None,
    include_retired: IncludeRetired = False,
    as_json: AsJson = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Walk from an entity: what is upstream, downstream or both, as a table."""
    walk: dict[str, Any] = {
        "direction": direction.value,
        "depth": depth,
        "kinds": kinds.split(",") if kinds else None,
        "as_of": as_of,
        "include_retired": include_retired,
    }
    with LineageClient(url, token) as client:
        uid = client.resolve(uid)
        if as_json:
            typer.echo(json.dumps(client.lineage_graph(uid, **walk), indent=2))
            return
        frame = client.lineage(uid, **walk)
    typer.echo(f"{direction.value} of {uid} (depth {depth}): {len(frame)} nodes")
    if len(frame):
        _table(frame, ["depth", "kind", "name", "owner"])
    if frame.attrs["truncated"]:
        typer.echo("(truncated: more nodes than the limit)")


@app.command()
def impact(
    uid: NameOrUid,
    live: Annotated[
        bool, typer.Option("--live", help="Only what serves now (live endpoints and upstream).")
    ] = False,
    as_of: AsOf = None,
    as_json: AsJson = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Who breaks if UID changes: the models, endpoints and jobs downstream, and their owners."""
    options: dict[str, Any] = {"live": live, "as_of": as_of}
    with LineageClient(url, token) as client:
        uid = client.resolve(uid)
        if as_json:
            typer.echo(json.dumps(client.impact_report(uid, **options), indent=2))
            return
        frame = client.impact(uid, **options)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(frame.attrs["counts"].items()))
    typer.echo(f"Changing {uid} affects {frame.attrs['total']} entities downstream")
    typer.echo(f"  {counts or 'nothing'}; live endpoints hit: {frame.attrs['live_endpoints']}")
    typer.echo(f"  owners to notify: {', '.join(frame.attrs['owners']) or 'none recorded'}")
    for role in ("models", "endpoints", "training_jobs"):
        rows = frame[frame["role"] == role]
        typer.echo(f"\n{role.replace('_', ' ')} ({len(rows)}):")
        if len(rows):
            _table(rows, ["name", "owner", "depth", "live", "deprecated"])


@app.command()
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
        _fail("say what to check: mllineage check --retire UID [UID...]", 2)
    try:
        with LineageClient(url, token) as client:
            frame = client.what_if(uids, as_of=as_of)
    except LineageAPIError as exc:
        typer.echo(_api_error(exc), err=True)
        raise typer.Exit(2) from None
    hit = frame.attrs["live_endpoints"]
    typer.echo(f"Retiring {', '.join(uids)} would hit {hit} live endpoint(s)")
    if len(frame):
        _table(frame, ["role", "name", "owner", "depth", "loses", "replacement"])
        typer.echo(f"owners to notify: {', '.join(frame.attrs['owners']) or 'none recorded'}")
    if hit:
        raise typer.Exit(1)


@app.command()
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


@app.command()
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


@app.command()
def restore(uid: NameOrUid, at: EventTime = None, url: Url = None, token: Token = None) -> None:
    """Undo UID's retirements older than --at."""
    with LineageClient(url, token) as client:
        done = client.restore(uid, at)
    typer.echo(f"restored {done['uid']} at {done['event_time']}")


@app.command()
def purge(
    uid: NameOrUid,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Remove UID and its edges for good (admin scope)."""
    if not yes:
        _fail(f"purging {uid} cannot be undone; add --yes", 2)
    with LineageClient(url, token) as client:
        client.purge(uid)
    typer.echo(f"purged {uid}")


@app.command("end-edge")
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


@app.command()
def find(
    text: Annotated[str, typer.Argument(help="Part of the name.")],
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Entities whose name contains TEXT, with their uids."""
    with LineageClient(url, token) as client:
        frame = client.entities(kind=kind.value if kind else None, q=text)
    if not len(frame):
        typer.echo(f"no entity's name contains {text!r}")
        return
    _table(frame, ["uid", "kind", "name", "owner"])


@app.command()
def demo(url: Url = None, token: Token = None) -> None:
    """Load the demo lineage (loading it again changes nothing)."""
    from mllineage.demo import load_demo

    with LineageClient(url, token) as client:
        written = load_demo(client)
    typer.echo(
        f"demo lineage loaded: {written['events']} events, {written['nodes']} nodes "
        f"({written['nodes_created']} new), {written['edges']} edges "
        f"({written['edges_created']} new)\n"
        "try: mllineage impact FeatureGroup:default:customers"
    )


def _api_error(exc: LineageAPIError) -> str:
    text = f"error: {exc}"
    if exc.status == 409:
        text += "".join(f"\n  {uid}" for uid in exc.candidates)
    elif len(exc.candidates) == 1:
        text += f"\ndid you mean {exc.candidates[0]}?"
    elif exc.candidates:
        text += "\ndid you mean one of these?" + "".join(f"\n  {uid}" for uid in exc.candidates)
    return text


def main() -> None:
    """The console script: errors the user can act on are a line or a few, no traceback. (A
    reader that goes away, as ``| head`` does, ends the command quietly: Click sees to it.)"""
    try:
        app()
    except LineageAPIError as exc:
        typer.echo(_api_error(exc), err=True)
        sys.exit(1)
    except Neo4jLocalError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
