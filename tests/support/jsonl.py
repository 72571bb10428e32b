"""Reading JSON Lines files (run records, release files, field cases) in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[Any]:
    """The values of a UTF-8 JSON Lines file, one per non-blank line, in file order (``JSONDecodeError`` on a
    line that is not JSON)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
