"""What every benchmark's results JSON says about where it ran (the numbers only mean something beside it), and
how the JSON is written."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine(**versions: Any) -> dict[str, Any]:
    """Python, CPU count, platform and the 1-minute load average now (the machine may be shared: context for
    the times), plus ``versions`` of the libraries a benchmark measures (e.g. ``torch=torch.__version__``)."""
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average_1min": round(os.getloadavg()[0], 2), **versions}


def write_results(path: Path, results: dict[str, Any], indent: int = 2) -> None:
    """Write ``results`` to ``path`` as indented JSON ending in a newline (its folder created) and print it."""
    text = json.dumps(results, indent=indent)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    print(text)
