"""Fixtures of the API tests: a live server with authentication on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mllineage.settings import Settings
from tests.helpers import ADMIN_KEY, READER_KEY, WRITER_KEY, LiveServer, auth_on


@pytest.fixture(scope="session")
def secured(settings: Settings) -> Iterator[LiveServer]:
    """The API with authentication on, accepting READER, WRITER and ADMIN (tests/helpers.py)."""
    with LiveServer(auth_on(settings, READER_KEY, WRITER_KEY, ADMIN_KEY)) as server:
        yield server
