"""Commands that run things on this machine: the API, API keys, the local Neo4j."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, cast, get_args

import typer

from mllineage.api.auth import Scope, append_key, new_key
from mllineage.cli.common import USER_ERRORS, app, fail, keys_app, neo4j_app, settings_with
from mllineage.local import LocalNeo4j, LocalServerError
from mllineage.serve import ServeError, serve

USER_ERRORS[LocalServerError] = "error: {}".format


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
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="API worker processes on the one port (Prometheus metrics summed)."
        ),
    ] = 1,
) -> None:
    """Run the HTTP API."""
    try:
        settings = settings_with(host=host, port=port)
        serve(settings, local_neo4j=local_neo4j, log_level=log_level, workers=workers)
    except ServeError as exc:
        fail(str(exc), code=2)


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
    status, started = LocalNeo4j(settings_with()).start()
    if started:
        typer.echo(f"started in {time.monotonic() - began:.1f}s: {status.describe()}")
    else:
        typer.echo(f"already running, nothing started: {status.describe()}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j."""
    typer.echo("stopped Neo4j" if LocalNeo4j(settings_with()).stop() else "Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs (exit code 3 when it does not)."""
    status = LocalNeo4j(settings_with()).status()
    typer.echo(status.describe())
    if not status.running:
        raise typer.Exit(3)
