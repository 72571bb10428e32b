"""Installing and removing the test plugin leaves the process as it was (in its own module, so the
module-scoped installation of test_document_plugin.py is not active here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from judgeanything.modalities import available_modalities, get_encoder
from judgeanything.schema import MediaRef
from tests.plugins.plugin_install import plugin_on_path


@pytest.mark.parametrize("build", [None, False], ids=["pip-or-auto", "hand-written-dist-info"])
def test_teardown_leaves_no_trace(tmp_path: Path, build: bool | None) -> None:
    before = list(sys.path)
    with plugin_on_path(tmp_path, build=build):
        assert "document" in available_modalities()
        out = get_encoder("document").encode(MediaRef("document", text="# Hi\nthere"), None)
        assert out.provenance["source_modality"] == "document" and out.provenance["lines_total"] == 2
    assert "document" not in available_modalities()
    assert sys.path == before and "judgeanything_document" not in sys.modules
    assert importlib.util.find_spec("judgeanything_document") is None
