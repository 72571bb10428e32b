"""Reading dataset files (JSON arrays or JSON Lines) into records that know where they came from.

Every dataset adapter reports bad input as a :class:`~judgeanything.schema.SchemaError` naming the file,
the row and the field. The row is the 1-based line number for JSON Lines and the 1-based list index for a
JSON array, so a user can open the file at the right place.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgeanything.schema import SCORE_MAX, SCORE_MIN, SchemaError
from judgeanything.text import shown

PathLike = str | os.PathLike[str]

_MISSING = object()


@dataclass(frozen=True)
class Record:
    """One object of a dataset file and where it is: ``file`` (as given), ``row`` (1-based; see above)."""

    data: Mapping[str, Any]
    file: str
    row: int

    def error(self, message: str, field: str | None = None) -> SchemaError:
        """A :class:`SchemaError` located at this record (and ``field`` when given)."""
        return SchemaError(message, file=self.file, row=self.row, field=field)

    def has(self, *names: str) -> bool:
        """Whether any of the field-name variants ``names`` is present with a non-null value."""
        return any(self.data.get(n) is not None for n in names)

    def get(self, *names: str, default: Any = None) -> Any:
        """The value of the first present, non-null variant among ``names`` (e.g. ``Human_answer`` and
        ``human_answer``), else ``default``."""
        for n in names:
            v = self.data.get(n, _MISSING)
            if v is not _MISSING and v is not None:
                return v
        return default

    def require(self, *names: str) -> Any:
        """Like :meth:`get`, but a missing (or null) field is an error.

        Raises:
            SchemaError: none of ``names`` is present; the message names the field (and its variants).
        """
        v = self.get(*names, default=_MISSING)
        if v is _MISSING:
            alt = f" (or {', '.join(repr(n) for n in names[1:])})" if len(names) > 1 else ""
            raise self.error(f"missing required field{alt}", names[0])
        return v

    def require_str(self, *names: str, allow_empty: bool = False) -> str:
        """A required string field; ints are accepted and converted (ids are written both ways).

        Raises:
            SchemaError: missing, not a string/int, or empty when ``allow_empty`` is false.
        """
        v = self.require(*names)
        field = next(n for n in names if self.data.get(n) is not None)
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise self.error(f"expected a string, got {type(v).__name__} {_short(v)}", field)
        s = str(v)
        if not allow_empty and not s.strip():
            raise self.error("is empty", field)
        return s

    def require_text(self, *names: str, allow_empty: bool = False) -> str:
        """A required text field (an instruction, an answer, a model name): a JSON string and nothing else —
        a number or a list where text belongs is a malformed row, not text to convert.

        Raises:
            SchemaError: missing, not a string, or empty when ``allow_empty`` is false.
        """
        v = self.require(*names)
        field = next(n for n in names if self.data.get(n) is not None)
        if not isinstance(v, str):
            raise self.error(f"expected text (a JSON string), got {type(v).__name__} {_short(v)}", field)
        if not allow_empty and not v.strip():
            raise self.error("is empty", field)
        return v

    def get_text(self, *names: str, default: str = "") -> str:
        """An optional text field (absent or null → ``default``).

        Raises:
            SchemaError: present but not a string.
        """
        v = self.get(*names, default=_MISSING)
        if v is _MISSING:
            return default
        if not isinstance(v, str):
            field = next(n for n in names if self.data.get(n) is not None)
            raise self.error(f"expected text (a JSON string), got {type(v).__name__} {_short(v)}", field)
        return v

    def require_mapping(self, *names: str) -> Mapping[str, Any]:
        """A required JSON-object field.

        Raises:
            SchemaError: missing or not an object.
        """
        v = self.require(*names)
        if not isinstance(v, Mapping):
            field = next(n for n in names if self.data.get(n) is not None)
            raise self.error(f"expected an object, got {type(v).__name__} {_short(v)}", field)
        return v

    def sub(self, name: str) -> Record:
        """The nested object ``name`` as a record at the same place (its fields are reported as
        ``name.field``).

        Raises:
            SchemaError: ``name`` is missing or not an object.
        """
        return self.child(name, self.require_mapping(name))

    def child(self, name: str, value: Any) -> Record:
        """``value`` (an object nested in this record under ``name``, e.g. ``answers[2]``) as a record
        whose errors name its fields ``name.field``.

        Raises:
            SchemaError: ``value`` is not an object (naming ``name``).
        """
        if not isinstance(value, Mapping):
            raise self.error(f"expected an object, got {type(value).__name__} {_short(value)}", name)
        return _SubRecord(value, self.file, self.row, name)


@dataclass(frozen=True)
class _SubRecord(Record):
    """A nested object: errors name the field as ``parent.field``."""

    prefix: str = ""

    def error(self, message: str, field: str | None = None) -> SchemaError:
        return SchemaError(message, file=self.file, row=self.row,
                           field=f"{self.prefix}.{field}" if field else self.prefix)


def read_records(path: PathLike, *, what: str = "data file") -> list[Record]:
    """Read a JSON array of objects or a JSON Lines file (one object per line; blank lines skipped).

    The format is detected from the first non-blank character (``[`` → JSON array, otherwise JSON Lines).
    A UTF-8 byte-order mark is tolerated.

    Args:
        path: the file.
        what: what the file is, for the message of a missing file (e.g. ``"HQ_Pair.jsonl (pair_file)"``).

    Returns:
        The records in file order, each with its 1-based row (line number for JSON Lines, list index + 1
        for a JSON array).

    Raises:
        SchemaError: the file does not exist or is not UTF-8; a malformed JSON Lines line (naming its line);
            a malformed JSON array (naming line and column in the message); JSON nested too deeply or with
            an integer too long to convert; an element that is not an object (naming its row); a string
            holding a lone UTF-16 surrogate escape (naming its row and field).
    """
    p = Path(os.path.expanduser(os.fspath(path)))
    file = os.fspath(path)
    if not p.is_file():
        raise SchemaError(f"{what} does not exist" + (" (it is a directory)" if p.is_dir() else ""),
                          file=file)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise SchemaError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=file) from e
    stripped = text.lstrip()
    if not stripped:
        raise SchemaError(f"{what} is empty", file=file)
    if stripped[0] == "[":
        return _read_array(text, file)
    return _read_lines(text, file)


class _NonFinite(float):
    """What ``NaN``, ``Infinity`` and ``-Infinity`` parse to here, so that :func:`_check_values` can name the
    field that holds one (Python's ``json`` accepts them; JSON does not, and the run could not write them)."""

    def __new__(cls, token: str) -> _NonFinite:
        obj = super().__new__(cls, float(token))
        obj.token = token  # type: ignore[attr-defined]
        return obj


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_NonFinite)


#: A number literal that may overflow to ``inf`` when parsed (``1e999``): the values are then checked.
_BIG_EXPONENT = re.compile(r"\d[eE][+-]?\d{3,}")


def _needs_check(text: str) -> bool:
    """Whether a parsed object may hold a lone surrogate or a non-finite number (else the walk is skipped)."""
    return (_SURROGATE_ESCAPE.search(text) is not None or "NaN" in text or "Infinity" in text
            or _BIG_EXPONENT.search(text) is not None)


def _read_array(text: str, file: str) -> list[Record]:
    try:
        data = _loads(text)
    except json.JSONDecodeError as e:
        raise SchemaError(f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}", file=file) from e
    except (RecursionError, ValueError) as e:
        raise SchemaError(f"not readable as JSON: {_unreadable(e)}", file=file) from e
    if not isinstance(data, list):
        raise SchemaError(f"expected a JSON array of objects, got {type(data).__name__}", file=file)
    out = []
    check = _needs_check(text)
    for i, obj in enumerate(data, start=1):
        if not isinstance(obj, Mapping):
            raise _not_object(obj, file, i)
        if check:
            _check_values(obj, file, i)
        out.append(Record(obj, file, i))
    return out


def _read_lines(text: str, file: str) -> list[Record]:
    out = []
    # Lines end at LF, CRLF or CR only: str.splitlines() would also split at U+2028, U+2029 and U+0085,
    # which valid JSON may hold unescaped inside a string (json.dumps(..., ensure_ascii=False) writes them
    # raw), cutting a good row in two. A raw CR or LF cannot occur inside a JSON string.
    for i, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
        except json.JSONDecodeError as e:
            raise SchemaError(f"line {i} is not valid JSON (column {e.colno}: {e.msg}): {_short(line)}",
                              file=file, row=i) from e
        except (RecursionError, ValueError) as e:
            raise SchemaError(f"line {i} is not readable as JSON: {_unreadable(e)}", file=file, row=i) from e
        if not isinstance(obj, Mapping):
            raise _not_object(obj, file, i)
        if _needs_check(line):
            _check_values(obj, file, i)
        out.append(Record(obj, file, i))
    return out


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: A ``\\uD800``–``\\uDFFF`` escape: the text was decoded from UTF-8, so only an escape can put a
#: surrogate into a parsed string (a superset: a paired surrogate or an escaped backslash matches too).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unreadable(e: BaseException) -> str:
    """Why :func:`json.loads` failed other than a syntax error: nesting deeper than Python's recursion
    limit, or an integer longer than ``sys.get_int_max_str_digits()``."""
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return str(e).split(";")[0]


def _check_values(obj: Any, file: str, row: int) -> None:
    """Reject values nothing downstream can write: strings that hold a lone UTF-16 surrogate (a
    ``"\\ud800"`` escape with no pair: valid JSON syntax, but not Unicode text — the run log is UTF-8), and
    ``NaN`` / ``Infinity`` / ``-Infinity`` or a number that overflows to infinity (``1e999``): not JSON, and
    the run's ``items.jsonl`` could not be read back.

    Raises:
        SchemaError: naming the file, the row and the field path (``answer1.answer``, ``answers[2].name``).
    """
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:  # iterative: the parsed object may be nested close to the recursion limit
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            shown = getattr(v, "token", None) or f"a number too large for a float ({v})"
            raise SchemaError(f"{shown} is not a finite number (JSON has no NaN or Infinity)", file=file, row=row,
                              field=path or None)
        if isinstance(v, str):
            if _has_surrogate(v):
                raise SchemaError(f"text {_short(v)} holds a lone UTF-16 surrogate (not valid Unicode)",
                                  file=file, row=row, field=path or None)
        elif isinstance(v, Mapping):
            for k, x in v.items():
                name = f"{path}.{k}" if path else str(k)
                if _has_surrogate(str(k)):
                    raise SchemaError(f"field name {_short(k)} holds a lone UTF-16 surrogate (not valid "
                                      f"Unicode)", file=file, row=row, field=path or None)
                stack.append((name, x))
        elif isinstance(v, list):
            stack.extend((f"{path}[{j}]", x) for j, x in enumerate(v))


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _not_object(obj: Any, file: str, row: int) -> SchemaError:
    return SchemaError(f"expected a JSON object, got {type(obj).__name__} {_short(obj)}", file=file, row=row)


#: A score written as text: ASCII digits, at most 9 of them (``str.isdigit`` also accepts ``²`` and runs of
#: thousands of digits, on which ``int`` raises a bare ValueError instead of naming the row).
_SCORE_TEXT = re.compile(r"[+-]?[0-9]{1,9}\Z")


def parse_score(rec: Record, field: str, value: Any, *, lo: int = SCORE_MIN, hi: int = SCORE_MAX) -> int:
    """An integer score in ``[lo, hi]`` from an int, an integral float or a numeric string (``"4"``).

    Raises:
        SchemaError: not an integer, or outside ``[lo, hi]`` (naming ``rec``'s file and row and ``field``).
    """
    n: int | None = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and _SCORE_TEXT.match(value.strip()):
        n = int(value.strip())
    if n is None:
        raise rec.error(f"score {_short(value)} is not an integer {lo}–{hi}", field)
    if not lo <= n <= hi:
        raise rec.error(f"score {n} is outside {lo}–{hi}", field)
    return n


def resolve(path: PathLike | None) -> Path | None:
    """``path`` as a :class:`Path` with ``~`` expanded (``None`` stays ``None``)."""
    return None if path is None else Path(os.path.expanduser(os.fspath(path)))


def _short(v: Any, n: int = 80) -> str:
    return shown(v, n)
