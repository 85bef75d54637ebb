"""The ``mllineage`` command: serve the API, manage the local Neo4j, and talk to the service.

The commands that talk to the service are a thin layer over ``mllineage.client``; they find
it from ``--url`` or ``MLLINEAGE_URL`` and the token from ``--token`` or ``MLLINEAGE_TOKEN``.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from tqdm import tqdm

from mllineage.auth import Scope, append_key, new_key
from mllineage.client import BATCH_SIZE, LineageAPIError, LineageClient
from mllineage.local import LocalNeo4j, Neo4jLocalError
from mllineage.settings import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _serve(args: argparse.Namespace) -> int:
    """Serve the API; with --local-neo4j, also start the local server and stop it on exit."""
    import uvicorn

    from mllineage.api import create_app

    settings = Settings()
    if settings.auth == "off" and args.host not in LOOPBACK:
        print(
            f"error: refusing to serve on {args.host} with authentication off; "
            "configure API keys (mllineage keys create) or bind to 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    server = LocalNeo4j(settings) if args.local_neo4j else None
    started = False
    if server is not None:
        print("starting the local Neo4j (the first time downloads it with Maven)...", flush=True)
        status, started = server.start()
        print(status.describe(), flush=True)
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    print(f"API docs:      http://{args.host}:{args.port}/docs", flush=True)
    if settings.auth == "off":
        print("WARNING: authentication is off (MLLINEAGE_AUTH=off); loopback only", flush=True)
    if server is not None:
        print(f"Neo4j Browser: {server.browser_url} (user {settings.neo4j_user})", flush=True)
    app = create_app(settings)
    _tune_gc_for_serving()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        if server is not None and started:
            server.stop()
            print("stopped the local Neo4j", flush=True)
    return 0


def _tune_gc_for_serving() -> None:
    """Keep the cyclic collector off the request path. A walk of 600 nodes allocates tens of
    thousands of objects, so with the defaults every few walks paid for a full collection
    over the app's ~130k long-lived objects (~70 ms each: 23% of the time of 90 such walks).
    Frozen, the start-up objects are never scanned again; a larger young generation
    collects a few times per big walk instead of dozens."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


def _scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = set(scopes) - set(get_args(Scope))
    if unknown or not scopes:
        raise argparse.ArgumentTypeError(
            f"unknown scopes {sorted(unknown)}; use read, write and/or admin"
        )
    return scopes


def _keys(args: argparse.Namespace) -> int:
    token, key = new_key(args.name, set(args.scopes))
    entry = key.model_dump_json()
    print(f"token (shown once, give it to the client as MLLINEAGE_TOKEN): {token}")
    if args.file:
        append_key(args.file, key)
        print(f"added {args.name!r} to {args.file} (set MLLINEAGE_API_KEYS_FILE={args.file})")
    else:
        print(f"its entry for MLLINEAGE_API_KEYS (a JSON list of these): {entry}")
    return 0


def _neo4j(args: argparse.Namespace) -> int:
    server = LocalNeo4j(Settings())
    if args.action == "start":
        began = time.monotonic()
        status, started = server.start()
        if started:
            print(f"started in {time.monotonic() - began:.1f}s: {status.describe()}")
        else:
            print(f"already running, nothing started: {status.describe()}")
    elif args.action == "stop":
        print("stopped Neo4j" if server.stop() else "Neo4j was not running")
    else:
        status = server.status()
        print(status.describe())
        return 0 if status.running else 3
    return 0


# --- ingest ---------------------------------------------------------------------------------


@dataclass
class Item:
    """One event read from a file, or why it could not be read."""

    line: int
    event: dict[str, Any] | None
    error: str | None = None

    @property
    def openlineage(self) -> bool:
        return self.event is not None and ("eventTime" in self.event or "schemaURL" in self.event)


def read_events(path: Path) -> Iterator[Item]:
    """Events from JSON (one event, ``{"events": [...]}`` or an array) or JSON Lines."""
    text = path.read_text()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("events"), list):
        whole = whole["events"]
    if isinstance(whole, dict):
        yield Item(1, whole)
    elif isinstance(whole, list):
        for index, event in enumerate(whole):
            ok = isinstance(event, dict)
            yield Item(index + 1, event if ok else None, None if ok else "not a JSON object")
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Item(number, None, f"invalid JSON: {exc.msg}")
                continue
            ok = isinstance(event, dict)
            yield Item(number, event if ok else None, None if ok else "not a JSON object")


def batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    """Consecutive items of one flavour (native or OpenLineage), at most ``size`` each."""
    batch: list[Item] = []
    for item in items:
        if batch and (len(batch) == size or item.openlineage != batch[0].openlineage):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _line_of(message: str, batch: list[Item]) -> str:
    """The file line a server message points at (``events[3].kind`` -> the 4th item's line)."""
    if match := re.match(r"(?:events)?\[(\d+)\]", message):
        index = int(match.group(1))
        if index < len(batch):
            return f"line {batch[index].line}"
    return f"lines {batch[0].line}-{batch[-1].line}"


def _ingest(args: argparse.Namespace) -> int:
    totals = {"events": 0, "nodes": 0, "edges": 0, "nodes_created": 0, "edges_created": 0}
    rejected = 0
    with LineageClient(args.url, args.token) as client:
        for path in args.files:
            chunks = list(batches(read_events(path), args.batch_size))
            for batch in tqdm(chunks, unit="batch", disable=len(chunks) <= 10, file=sys.stderr):
                bad = next((item for item in batch if item.error), None)
                if bad is not None:
                    print(
                        f"{path}:{bad.line}: {bad.error}; its batch was not sent", file=sys.stderr
                    )
                    rejected += 1
                    continue
                events = [item.event for item in batch if item.event is not None]
                try:
                    written = client.post_batch(events, openlineage=batch[0].openlineage)
                except LineageAPIError as exc:
                    where = _line_of(exc.message, batch) if exc.status == 422 else "batch"
                    print(f"{path}:{where}: {exc}; nothing from its batch was written",
                          file=sys.stderr)  # fmt: skip
                    rejected += 1
                    continue
                totals["events"] += len(events)
                for key in ("nodes", "edges", "nodes_created", "edges_created"):
                    totals[key] += written[key]
    print(
        f"ingested {totals['events']} events: {totals['nodes']} nodes "
        f"({totals['nodes_created']} new), {totals['edges']} edges "
        f"({totals['edges_created']} new); {rejected} batches rejected"
    )
    return 1 if rejected else 0


# --- reading --------------------------------------------------------------------------------


def _lineage(args: argparse.Namespace) -> int:
    with LineageClient(args.url, args.token) as client:
        walk = {"direction": args.direction, "depth": args.depth, "kinds": args.kinds}
        if args.json:
            print(json.dumps(client.lineage_graph(args.uid, **walk), indent=2))
            return 0
        frame = client.lineage(args.uid, **walk)
    print(f"{args.direction} of {args.uid} (depth {args.depth}): {len(frame)} nodes")
    if len(frame):
        print(frame[["depth", "kind", "name", "owner"]].to_string(index=False))
    if frame.attrs["truncated"]:
        print("(truncated: more nodes than the limit)")
    return 0


def _impact(args: argparse.Namespace) -> int:
    with LineageClient(args.url, args.token) as client:
        if args.json:
            print(json.dumps(client.impact_report(args.uid), indent=2))
            return 0
        frame = client.impact(args.uid)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(frame.attrs["counts"].items()))
    print(f"Changing {args.uid} affects {frame.attrs['total']} entities downstream")
    print(f"  {counts or 'nothing'}")
    print(f"  owners to notify: {', '.join(frame.attrs['owners']) or 'none recorded'}")
    for role in ("models", "endpoints", "training_jobs"):
        rows = frame[frame["role"] == role]
        print(f"\n{role.replace('_', ' ')} ({len(rows)}):")
        if len(rows):
            print(rows[["name", "owner", "depth"]].to_string(index=False))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mllineage.demo import demo_events

    with LineageClient(args.url, args.token) as client:
        written = client.post_events(demo_events())
    print(
        f"demo lineage loaded: {written['events']} events, {written['nodes']} nodes "
        f"({written['nodes_created']} new), {written['edges']} edges "
        f"({written['edges_created']} new)\n"
        "try: mllineage impact FeatureGroup:default:customers"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mllineage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--local-neo4j",
        action="store_true",
        help="start the local Neo4j first (provisioning it once) and stop it on exit",
    )
    serve.set_defaults(handler=_serve)

    keys = commands.add_parser("keys", help="create API keys")
    keys.add_argument("action", choices=["create"])
    keys.add_argument("--name", required=True, help="who or what the key is for")
    keys.add_argument(
        "--scopes",
        type=_scopes,
        default=["read"],
        help="comma-separated: read, write, admin (default read)",
    )
    keys.add_argument("--file", type=Path, help="append the key to this JSON file")
    keys.set_defaults(handler=_keys)

    neo4j = commands.add_parser("neo4j", help="manage the local Neo4j server (no Docker)")
    neo4j.add_argument("action", choices=["start", "stop", "status"])
    neo4j.set_defaults(handler=_neo4j)

    service = argparse.ArgumentParser(add_help=False)
    service.add_argument("--url", help="the service (default: $MLLINEAGE_URL or 127.0.0.1:8000)")
    service.add_argument("--token", help="API token (default: $MLLINEAGE_TOKEN)")

    ingest = commands.add_parser(
        "ingest", parents=[service], help="post events from JSON or JSON Lines files"
    )
    ingest.add_argument("files", nargs="+", type=Path)
    ingest.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ingest.set_defaults(handler=_ingest)

    lineage = commands.add_parser("lineage", parents=[service], help="walk from an entity")
    lineage.add_argument("uid")
    lineage.add_argument("--direction", choices=["downstream", "upstream", "both"],
                         default="downstream")  # fmt: skip
    lineage.add_argument("--depth", type=int, default=10)
    lineage.add_argument("--kinds", type=lambda s: s.split(","), help="e.g. Model,Endpoint")
    lineage.add_argument("--json", action="store_true", help="the raw answer, for scripts")
    lineage.set_defaults(handler=_lineage)

    impact = commands.add_parser("impact", parents=[service], help="who breaks if UID changes")
    impact.add_argument("uid")
    impact.add_argument("--json", action="store_true", help="the raw answer, for scripts")
    impact.set_defaults(handler=_impact)

    demo = commands.add_parser("demo", parents=[service], help="load the demo lineage")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (Neo4jLocalError, LineageAPIError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
