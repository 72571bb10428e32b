"""Reading JSON arrays and JSON Lines with row-numbered errors."""

from __future__ import annotations

import json

import pytest

from judgeanything.datasets._io import parse_score, read_records
from judgeanything.schema import SchemaError


def test_json_array_rows_are_list_positions(write):
    recs = read_records(write("a.json", [{"x": 1}, {"x": 2}]))
    assert [(r.row, r.data["x"]) for r in recs] == [(1, 1), (2, 2)]


def test_jsonl_rows_are_line_numbers_and_blank_lines_skipped(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"x": 1}\n\n{"x": 2}\n', encoding="utf-8")
    assert [(r.row, r.data["x"]) for r in read_records(p)] == [(1, 1), (3, 2)]


def test_bom_is_tolerated(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + b'[{"x": 1}]')
    assert read_records(p)[0].data == {"x": 1}


@pytest.mark.parametrize(
    ("content", "row", "needle"),
    [
        ("", None, "is empty"),
        ('[{"x": 1},\n {"x": }]', None, "line 2, column"),
        ('[{"x": 1}, 3]', 2, "expected a JSON object, got int"),
        ('{"x": 1}\n[1]\n', 2, "expected a JSON object, got list"),
        ('{"x": 1}\n{x: 1}\n', 2, "line 2 is not valid JSON"),
    ],
)
def test_bad_files(tmp_path, content, row, needle):
    p = tmp_path / "bad.jsonl"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        read_records(p)
    assert err.value.file == str(p) and err.value.row == row and needle in str(err.value)


def test_not_utf8_and_missing(tmp_path):
    p = tmp_path / "latin1.json"
    p.write_bytes('[{"x": "caf\xe9"}]'.encode("latin-1"))
    with pytest.raises(SchemaError, match="not UTF-8"):
        read_records(p)
    with pytest.raises(SchemaError, match="labels file does not exist"):
        read_records(tmp_path / "nope.json", what="labels file")
    with pytest.raises(SchemaError, match="is a directory"):
        read_records(tmp_path)


def test_record_helpers(write):
    rec = read_records(write("r.json", [{"a": None, "b": 3, "o": {"k": "v"}, "s": " "}]))[0]
    assert rec.get("a", "b") == 3 and rec.has("b") and not rec.has("a", "zz")
    with pytest.raises(SchemaError) as err:
        rec.require("a", "c")
    assert err.value.field == "a" and "(or 'c')" in str(err.value) and err.value.row == 1
    assert rec.require_str("b") == "3"
    with pytest.raises(SchemaError, match="is empty"):
        rec.require_str("s")
    with pytest.raises(SchemaError) as err:
        rec.sub("o").require("missing")
    assert err.value.field == "o.missing"
    with pytest.raises(SchemaError) as err:
        rec.sub("b")
    assert err.value.field == "b" and "expected an object" in str(err.value)


@pytest.mark.parametrize(("value", "expected"), [(4, 4), ("4", 4), (" 5 ", 5), (3.0, 3), (1, 1)])
def test_parse_score_accepts(write, value, expected):
    rec = read_records(write("r.json", [{}]))[0]
    assert parse_score(rec, "score", value) == expected


@pytest.mark.parametrize("value", [0, 6, 7, "7", "4.5", 4.5, True, None, "", [4], "4\u00b2", "\u0664", "+-4",
                                   "9" * 5000, "+" + "0" * 4400 + "4", float("nan"), -0.0, 10**400])
def test_parse_score_rejects(write, value):
    rec = read_records(write("r.json", [{}]))[0]
    with pytest.raises(SchemaError) as err:
        parse_score(rec, "score", value)
    assert err.value.field == "score" and err.value.row == 1


def test_unicode_line_separators_inside_strings_do_not_split_rows(tmp_path):
    # U+2028, U+2029 and U+0085 are valid unescaped inside JSON strings (json.dumps(ensure_ascii=False)
    # writes them raw); only LF, CRLF and CR end a JSON Lines row.
    p = tmp_path / "seps.jsonl"
    texts = ["one\u2028two", "three\u2029four\x85five"]
    p.write_text("".join(json.dumps({"t": t}, ensure_ascii=False) + "\r\n" for t in texts),
                 encoding="utf-8")
    assert [(r.row, r.data["t"]) for r in read_records(p)] == [(1, texts[0]), (2, texts[1])]
    cr = tmp_path / "cr.jsonl"
    cr.write_text('{"x": 1}\r{"x": 2}\r', encoding="utf-8")
    assert [(r.row, r.data["x"]) for r in read_records(cr)] == [(1, 1), (2, 2)]


@pytest.mark.parametrize(
    ("content", "row", "field", "needle"),
    [
        ('{"x": 1}\n{"a": {"b": ["ok", "bad \\ud800 here"]}}\n', 2, "a.b[1]", "lone UTF-16 surrogate"),
        ('[{"x": 1}, {"\\udfff": 1}]', 2, None, "field name"),
        ('{"x": 1}\n{"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n", 2, None, "nested too deeply"),
        ("[" * 100_000 + "]" * 100_000, None, None, "nested too deeply"),
        ('{"x": 1}\n{"id": ' + "9" * 5000 + "}\n", 2, None, "line 2 is not readable as JSON"),
    ],
)
def test_json_that_python_cannot_hold_is_a_schema_error(tmp_path, content, row, field, needle):
    p = tmp_path / "bad.jsonl"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        read_records(p)
    assert (err.value.file, err.value.row, err.value.field) == (str(p), row, field)
    assert needle in str(err.value)


def test_paired_surrogate_escapes_are_text(tmp_path):
    p = tmp_path / "emoji.jsonl"
    p.write_text('{"t": "\\ud83d\\ude00"}\n', encoding="utf-8")
    assert read_records(p)[0].data["t"] == "\U0001f600"
