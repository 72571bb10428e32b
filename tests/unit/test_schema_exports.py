"""``schema.__all__`` names the schema's own types, constants and functions — not the stdlib names it imports."""

from __future__ import annotations

import types

import judgeanything.schema as schema


def test_all_exports_only_what_schema_defines():
    for name in schema.__all__:
        obj = getattr(schema, name)  # every name exists
        assert not isinstance(obj, types.ModuleType), name
        defined_here = getattr(obj, "__module__", "judgeanything.schema") == "judgeanything.schema"
        type_alias = getattr(obj, "__module__", "") in ("typing", "types")  # Item = ScoreItem | PairItem | …
        assert defined_here or type_alias, f"{name} is imported from {obj.__module__}, not defined here"
    assert not {"Any", "Mapping", "dataclass", "field", "asdict", "json", "re", "hashlib"} & set(schema.__all__)
    assert {"Verdict", "Failure", "PairItem", "FAILURE_KINDS", "item_to_dict"} <= set(schema.__all__)
