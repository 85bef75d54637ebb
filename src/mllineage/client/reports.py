"""The client's governance reports (``analysis.reports`` says what each means): every page of
a report's items, and the report as a DataFrame."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mllineage.analysis.reports import COLUMNS, Report, flatten
from mllineage.client.frames import frame
from mllineage.client.transport import Calls
from mllineage.model.domain import MAX_PAGE


class ReportReads(Calls):
    """Report reads of ``LineageClient``."""

    def report_items(
        self,
        name: str,
        namespace: str | None = None,
        owner: str | None = None,
        as_of: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of the report ``name`` (all pages), as the API answers them."""
        params: dict[str, Any] = {"namespace": namespace, "owner": owner, "as_of": as_of}
        params = {k: v for k, v in params.items() if v} | {"limit": MAX_PAGE}
        items: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", f"/v1/reports/{name}", params=params)
            items += page["items"]
            if not page["next_cursor"]:
                return items
            params["cursor"] = page["next_cursor"]

    def report(
        self,
        name: str,
        namespace: str | None = None,
        owner: str | None = None,
        as_of: str | None = None,
    ) -> pd.DataFrame:
        """The report ``name`` (``orphans``, ``deprecated-in-use``, ``duplicate-features``,
        ``skew``) as a DataFrame: one row per item, or per listed thing of an item (a
        consumer, a duplicate, a skewed feature)."""
        items = self.report_items(name, namespace, owner, as_of)
        report = Report(name)
        return frame(flatten(report, items), COLUMNS[report])
