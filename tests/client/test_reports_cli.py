"""The reports through the client (DataFrames) and `mllineage report` (tables and JSON), on
the demo lineage."""

from __future__ import annotations

import json

from mllineage.client import LineageClient
from tests.client.test_cli import cli, demo  # noqa: F401  (the fixture)

CHURN = "Endpoint:default:churn-prod"


def test_reports_as_dataframes(demo: str) -> None:  # noqa: F811
    with LineageClient(demo) as client:
        skew = client.report("skew")
        churn = skew[skew["endpoint"] == CHURN]
        assert set(churn["side"]) == {"training_only"}
        assert sorted(churn["feature"]) == [
            f"Feature:default:transactions.{f}" for f in ("orders_30d", "refund_rate", "spend_30d")
        ]
        orphans = client.report("orphans", owner="team-growth")
        assert list(orphans["name"]) == ["ltv-regressor@1"]
        assert client.report("orphans", owner="team-risk").empty
        duplicates = client.report("duplicate-features", namespace="default")
        assert {"uid", "duplicate", "data_sources"} <= set(duplicates.columns)
        assert client.report("deprecated-in-use").empty
        # churn-xgb@3's serving edge ended when it was deprecated: never deprecated and in use.
        assert client.report("deprecated-in-use", as_of="2026-11-06T12:00:00Z").empty


def test_mllineage_report(demo: str) -> None:  # noqa: F811
    table = cli("report", "skew", url=demo)
    assert table.returncode == 0, table.stderr
    assert "churn-prod" in table.stdout and "transactions.refund_rate" in table.stdout
    as_json = cli("report", "orphans", "--json", url=demo)
    assert [item["name"] for item in json.loads(as_json.stdout)] == ["ltv-regressor@1"]
    nothing = cli("report", "orphans", "--owner", "nobody", url=demo)
    assert nothing.returncode == 0 and "nothing to report" in nothing.stdout
    unknown = cli("report", "unused", url=demo)
    assert unknown.returncode == 2 and "orphans, deprecated-in-use" in unknown.stderr
    bad_time = cli("report", "orphans", "--as-of", "yesterday", url=demo)
    assert bad_time.returncode == 1 and "as_of" in bad_time.stderr
