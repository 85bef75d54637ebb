"""strict_json: JSON as the RFC defines it, where Python's parser is lenient."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllineage.ingest import strict_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(JSON_VALUES, st.booleans())
def test_valid_json_parses_as_the_standard_parser_does(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert strict_json.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        ('{"a": NaN}', 6, "NaN is not a JSON number"),
        ('{"NaN": "Infinity", "b": [1, -Infinity]}', 29, "-Infinity is not a JSON number"),
        ('{"a": "x\\ud800"}', 8, "half of a UTF-16 surrogate pair"),
        ('["\\ud83d\\ude00", "\\ude00"]', 18, "half of a UTF-16 surrogate pair"),
        ('{"k\\udc00": 1}', 3, "half of a UTF-16 surrogate pair"),
    ],
)
def test_what_python_accepts_but_json_does_not_is_refused_where_it_stands(
    text: str, position: int, says: str
) -> None:
    with pytest.raises(json.JSONDecodeError) as refused:
        strict_json.loads(text.encode())
    assert refused.value.pos == position and says in refused.value.msg


def test_surrogate_pairs_and_escaped_backslashes_are_text() -> None:
    assert strict_json.loads(b'["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]


def test_only_utf8_bytes() -> None:
    with pytest.raises(UnicodeDecodeError):
        strict_json.loads('{"a": 1}'.encode("utf-16"))
