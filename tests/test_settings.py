"""The Neo4j URI setting: every scheme of the driver (routing or not, with TLS or not), and a
clear refusal of anything else before the service starts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from mllineage.cli import app
from mllineage.settings import Settings
from mllineage.store.database import unavailable_advice


@pytest.mark.parametrize(
    "uri",
    [
        "neo4j://127.0.0.1:7687",
        "neo4j+s://abcd1234.databases.neo4j.io",
        "neo4j+ssc://cluster.internal:7687",
        "bolt://127.0.0.1:7687",
        "bolt+s://db.example.com",
    ],
)
def test_every_driver_scheme_is_accepted(uri: str) -> None:
    assert Settings(neo4j_uri=uri).neo4j_uri == uri


@pytest.mark.parametrize("uri", ["http://127.0.0.1:7474", "127.0.0.1:7687", "neo4j://", ""])
def test_anything_else_is_refused_naming_the_setting(uri: str) -> None:
    with pytest.raises(ValidationError, match="MLLINEAGE_NEO4J_URI must be"):
        Settings(neo4j_uri=uri)


def test_the_cli_refuses_a_bad_uri_before_starting_anything() -> None:
    result = CliRunner().invoke(app, ["serve"], env={"MLLINEAGE_NEO4J_URI": "http://x:7474"})
    assert result.exit_code == 2
    assert "MLLINEAGE_NEO4J_URI must be" in result.output


def test_a_local_routing_uri_gets_the_local_advice() -> None:
    assert "mllineage neo4j start" in unavailable_advice("neo4j://127.0.0.1:7687")
    assert "mllineage neo4j start" not in unavailable_advice("neo4j+s://x.databases.neo4j.io")
