"""The ``mllineage`` command: serve the API and manage the local Neo4j server."""

from __future__ import annotations

import argparse
import sys
import time

from mllineage.neo4j_local import LocalNeo4j, Neo4jLocalError
from mllineage.settings import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API; with --local-neo4j, also start the local server and stop it on exit."""
    import uvicorn

    from mllineage.api import create_app

    server = LocalNeo4j(settings) if args.local_neo4j else None
    started = False
    if server is not None:
        print("starting the local Neo4j (the first time downloads it with Maven)...", flush=True)
        status, started = server.start()
        print(status.describe(), flush=True)
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    print(f"API docs:      http://{args.host}:{args.port}/docs", flush=True)
    if server is not None:
        print(f"Neo4j Browser: {server.browser_url} (user {settings.neo4j_user})", flush=True)
    try:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    finally:
        if server is not None and started:
            server.stop()
            print("stopped the local Neo4j", flush=True)
    return 0


def _neo4j(args: argparse.Namespace, settings: Settings) -> int:
    server = LocalNeo4j(settings)
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

    neo4j = commands.add_parser("neo4j", help="manage the local Neo4j server (no Docker)")
    neo4j.add_argument("action", choices=["start", "stop", "status"])
    neo4j.set_defaults(handler=_neo4j)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args, Settings()))
    except Neo4jLocalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
