"""Commands that record lineage and ask questions of it: ingest, lineage, impact, find, demo."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mllineage import pictures
from mllineage.analysis.traversal import Direction
from mllineage.cli.common import (
    USER_ERRORS,
    AsJson,
    AsOf,
    IncludeRetired,
    NameOrUid,
    Token,
    Url,
    api_error_text,
    app,
    fail,
    print_table,
)
from mllineage.client import BATCH_SIZE, LineageAPIError, LineageClient
from mllineage.client.frames import IMPACT_ROLES
from mllineage.model.domain import DEFAULT_WALK_DEPTH, MAX_DEPTH, MAX_EVENTS_PER_REQUEST, Kind

USER_ERRORS[LineageAPIError] = api_error_text


class PictureFormat(StrEnum):
    png = "png"
    svg = "svg"
    mermaid = "mermaid"
    dot = "dot"


Format = Annotated[
    PictureFormat | None,
    typer.Option("--format", help="Draw it instead: png, svg (need -o), or Mermaid or DOT text."),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", dir_okay=False, help="The picture's file (its suffix names the format)."
    ),
]
MaxNodes = Annotated[int, typer.Option(min=1, help="Draw at most this many nodes, the nearest.")]


def picture_format(format: PictureFormat | None, output: Path | None, as_json: bool) -> str | None:
    """The picture format asked for by ``--format`` or ``-o``'s suffix; None for a table."""
    if format is None and output is None:
        return None
    if as_json:
        fail("--json and a picture (--format, -o) exclude each other", code=2)
    chosen = format.value if format else pictures.format_for(output or "")
    if chosen is None:
        fail(f"cannot tell the picture format from {output}: add --format png|svg|mermaid|dot", 2)
    if chosen in ("png", "svg") and output is None:
        fail(f"--format {chosen} writes a file: add -o FILE", code=2)
    return chosen


def show(picture: pictures.Picture, format: str, output: Path | None) -> None:
    """Write the picture to ``output``, or print its text; say what was left out."""
    if output is None:
        typer.echo(pictures.render(picture, format), nl=False)
    else:
        pictures.write(picture, output, format)
        typer.echo(
            f"wrote {output} ({format}): {len(picture.nodes)} nodes, {len(picture.edges)} edges"
        )
    if picture.note:
        typer.echo(f"note: {picture.note}", err=True)


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
    delete_after: Annotated[
        bool,
        typer.Option(
            "--delete-after",
            help="Delete each file whose events all landed (a track() spool, say); one that "
            "grew meanwhile is kept, since sending it again is safe.",
        ),
    ] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Post events from files; native and OpenLineage events are told apart one by one.
    Every valid event lands; each one that fails is reported as FILE:LINE: reason (exit 1)."""
    sizes = {path: path.stat().st_size for path in files}
    with LineageClient(url, token) as client:
        report = client.ingest(*files, batch_size=batch_size)
    for failed in report.failed:
        typer.echo(str(failed), err=True)
    typer.echo(
        f"ingested {report.events} events: {report.nodes} nodes ({report.nodes_created} new), "
        f"{report.edges} edges ({report.edges_created} new); {len(report.failed)} failed"
    )
    if delete_after:
        _delete_sent(sizes, {failed.source for failed in report.failed})
    if report.failed:
        raise typer.Exit(1)


def _delete_sent(sizes: dict[Path, int], failed_sources: set[str]) -> None:
    """Delete the files all of whose events landed, unless they grew while being sent."""
    for path, size in sizes.items():
        if str(path) in failed_sources:
            typer.echo(f"kept {path}: some of its events did not land", err=True)
        elif path.stat().st_size != size:
            typer.echo(
                f"kept {path}: it grew while being sent (sending it again is safe)", err=True
            )
        else:
            path.unlink()
            typer.echo(f"deleted {path}")


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
    format: Format = None,
    output: Output = None,
    max_nodes: MaxNodes = pictures.MAX_NODES,
    url: Url = None,
    token: Token = None,
) -> None:
    """Walk from an entity: what is upstream, downstream or both, as a table or a picture
    (--format png|svg|mermaid|dot -o FILE), left to right by depth."""
    drawing = picture_format(format, output, as_json)
    walk: dict[str, Any] = {
        "direction": direction.value,
        "depth": depth,
        "kinds": kinds.split(",") if kinds else None,
        "as_of": as_of,
        "include_retired": include_retired,
    }
    with LineageClient(url, token) as client:
        uid = client.resolve(uid, as_of, include_retired)
        if as_json:
            typer.echo(json.dumps(client.lineage_graph(uid, **walk), indent=2))
            return
        if drawing:
            show(client.lineage_picture(uid, max_nodes, **walk), drawing, output)
            return
        frame = client.lineage(uid, **walk)
    typer.echo(f"{direction.value} of {uid} (depth {depth}): {len(frame)} nodes")
    if len(frame):
        print_table(frame, ["depth", "kind", "name", "owner", "state"])
    if frame.attrs["truncated"]:
        typer.echo("(truncated: more nodes than the limit)")


@app.command()
def impact(
    uid: NameOrUid,
    live: Annotated[
        bool, typer.Option("--live", help="Only what serves now (live endpoints and upstream).")
    ] = False,
    as_of: AsOf = None,
    include_retired: IncludeRetired = False,
    as_json: AsJson = False,
    format: Format = None,
    output: Output = None,
    max_nodes: MaxNodes = pictures.MAX_NODES,
    url: Url = None,
    token: Token = None,
) -> None:
    """Who breaks if UID changes: the models, endpoints and jobs downstream, and their owners;
    or a picture of them and the paths to them (--format png|svg|mermaid|dot -o FILE)."""
    drawing = picture_format(format, output, as_json)
    options: dict[str, Any] = {"live": live, "as_of": as_of, "include_retired": include_retired}
    with LineageClient(url, token) as client:
        uid = client.resolve(uid, as_of, include_retired)
        if as_json:
            typer.echo(json.dumps(client.impact_report(uid, **options), indent=2))
            return
        if drawing:
            show(client.impact_picture(uid, max_nodes, **options), drawing, output)
            return
        frame = client.impact(uid, **options)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(frame.attrs["counts"].items()))
    typer.echo(f"Changing {uid} affects {frame.attrs['total']} entities downstream")
    typer.echo(f"  {counts or 'nothing'}; live endpoints hit: {frame.attrs['live_endpoints']}")
    typer.echo(f"  owners to notify: {', '.join(frame.attrs['owners']) or 'none recorded'}")
    for role in IMPACT_ROLES:
        rows = frame[frame["role"] == role]
        if len(rows) or role in ("models", "endpoints", "training_jobs"):
            typer.echo(f"\n{role.replace('_', ' ')} ({len(rows)}):")
        if len(rows):
            print_table(rows, ["name", "owner", "depth", "state"])


@app.command()
def find(
    text: Annotated[str, typer.Argument(help="Part of the name.")],
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    as_of: AsOf = None,
    include_retired: IncludeRetired = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Entities whose name contains TEXT, with their uids and state."""
    with LineageClient(url, token) as client:
        frame = client.entities(
            kind=kind.value if kind else None,
            q=text,
            as_of=as_of,
            include_retired=include_retired,
        )
    if not len(frame):
        hint = "" if include_retired else " (add --include-retired to look among retired ones)"
        typer.echo(f"no entity's name contains {text!r}{hint}")
        return
    print_table(frame, ["uid", "kind", "name", "owner", "state"])


@app.command()
def demo(url: Url = None, token: Token = None) -> None:
    """Load the demo lineage (loading it again changes nothing)."""
    from mllineage.client.demo import load_demo

    with LineageClient(url, token) as client:
        written = load_demo(client)
    typer.echo(
        f"demo lineage loaded: {written['events']} events, {written['nodes']} nodes "
        f"({written['nodes_created']} new), {written['edges']} edges "
        f"({written['edges_created']} new)\n"
        "try: mllineage impact FeatureGroup:default:customers"
    )
