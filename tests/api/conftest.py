"""Fixtures of the API tests: a live server with authentication on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests.helpers import ADMIN_KEY, READER_KEY, WRITER_KEY, auth_on


@pytest.fixture(scope="session")
def secured(settings: Settings) -> Iterator[LocalApi]:
    """The API with authentication on, accepting READER, WRITER and ADMIN (tests/helpers.py)."""
    with LocalApi(auth_on(settings, READER_KEY, WRITER_KEY, ADMIN_KEY)) as server:
        yield server
