"""What every command shares: the Typer app, the common options, and the output helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from mllineage import __version__
from mllineage.settings import Settings

if TYPE_CHECKING:  # the client's side of the commands imports it; the server's never does
    import pandas as pd

    from mllineage.client import LineageAPIError

app = typer.Typer(
    name="mllineage",
    help="Record and ask the lineage of ML work: serve the API, manage the local Neo4j, and "
    "talk to the service (--url or MLLINEAGE_URL, --token or MLLINEAGE_TOKEN).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: it rewraps the docstrings' paragraphs and shows no Python types
    rich_markup_mode=None,
)


def _version(asked: bool) -> None:
    if asked:
        typer.echo(f"mllineage {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """The options before a command."""


keys_app = typer.Typer(help="Create API keys.", no_args_is_help=True)
neo4j_app = typer.Typer(help="Manage the local Neo4j server (no Docker).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(neo4j_app, name="neo4j")

# The errors a user can act on, each with its text (said in a line or a few, no traceback):
# each side of the commands adds those it raises.
USER_ERRORS: dict[type[Exception], Callable[[Any], str]] = {}

Url = Annotated[
    str | None,
    typer.Option(
        envvar="MLLINEAGE_URL", metavar="URL", help="The service (default http://127.0.0.1:8000)."
    ),
]
Token = Annotated[
    str | None,
    typer.Option(envvar="MLLINEAGE_TOKEN", metavar="TOKEN", help="API token.", show_default=False),
]
NameOrUid = Annotated[
    str, typer.Argument(metavar="UID", help="A uid, or a name that only one entity has.")
]
AsJson = Annotated[bool, typer.Option("--json", help="The raw answer, for scripts.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="TIME", help="The graph as it stood then (ISO 8601, with a zone)."
    ),
]
IncludeRetired = Annotated[
    bool, typer.Option("--include-retired", help="Also what is retired or ended, marked.")
]
EventTime = Annotated[
    str | None,
    typer.Option("--at", metavar="TIME", help="When it happened (ISO 8601); default: now."),
]


def print_table(frame: pd.DataFrame, columns: list[str]) -> None:
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


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_with(**overrides: Any) -> Settings:
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid setting ({problems}); see MLLINEAGE_* in docs/configuration.md", code=2)


# The API's names of the view's parameters, as the commands spell them.
FLAGS = {"include_retired=true": "--include-retired", "a later as_of": "a later --as-of"}


def api_error_text(exc: LineageAPIError) -> str:
    """The error and its candidates, in the command line's words."""
    text = f"error: {exc}"
    for parameter, flag in FLAGS.items():
        text = text.replace(parameter, flag)
    if exc.status == 409:
        text += "".join(f"\n  {uid}" for uid in exc.candidates)
    elif exc.status == 0:
        text += (
            "\nis the service running there? Start one with `make run` (or `mllineage serve`),"
            " or point --url or MLLINEAGE_URL at yours"
        )
    elif len(exc.candidates) == 1:
        text += f"\ndid you mean {exc.candidates[0]}?"
    elif exc.candidates:
        text += "\ndid you mean one of these?" + "".join(f"\n  {uid}" for uid in exc.candidates)
    return text
