"""``judgeanything-merge``: join the run directories of a sharded run (``run.shard=i/n``) into one run.

    judgeanything-merge outputs/probes/pair-overall/random/shard-*-of-4 --out outputs/probes/pair-overall/random
    judgeanything-merge shards/ --out merged/          # a folder holding the shard run directories

The merged directory holds what an unsharded run writes (items in dataset order, the shards' verdict logs,
labels, run.json, then metrics, report and plots); its metrics equal those of the unsharded run. Refused,
with the reason named: a directory that is not a shard run; shards of different runs (judge, benchmark,
setting… — the run identities differ); shards cut into different counts; a shard given twice (overlap) or
missing; an unfinished shard (resume it first); an item or verdict key in two shards; an item outside its
shard (shards cut from different item sets).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgeanything.schema import SchemaError
from judgeanything.shard import Shard, shard_of
from judgeanything.store import ITEMS, LABELS, RUN, VERDICTS, RunRecord, StoreError, iter_jsonl_lines, read_jsonl_lines


class MergeError(ValueError):
    """The shards cannot be merged (names the directory and the reason)."""


@dataclass
class ShardRun:
    """One shard run directory, as read for the merge."""

    path: Path
    run: dict[str, Any]
    shard: Shard
    n_items_total: int
    positions: list[int]

    @property
    def name(self) -> str:
        return f"shard {self.shard} ({self.path})"


def _read_run_json(d: Path) -> dict[str, Any]:
    p = d / RUN
    try:
        run = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise MergeError(f"{d}: no {RUN}; not a run directory") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MergeError(f"{p}: not valid JSON ({e})") from e
    if not isinstance(run, dict):
        raise MergeError(f"{p}: not a run description (a JSON object)")
    return run


def load_shard(d: Path) -> ShardRun:
    """Read a shard run directory's ``run.json``.

    Raises:
        MergeError: not a run directory, or a run that was not sharded.
    """
    run = _read_run_json(d)
    info = run.get("shard")
    if not isinstance(info, dict):
        raise MergeError(f"{d}: not a shard run ({RUN} has no 'shard'; shards are made with run.shard=i/n)")
    try:
        shard = Shard(int(info["index"]), int(info["count"]))
        positions = [int(x) for x in info["positions"]]
        total = int(info["n_items_total"])
    except (KeyError, TypeError, ValueError) as e:
        raise MergeError(f"{d / RUN}: malformed 'shard' entry ({e})") from e
    return ShardRun(d, run, shard, total, positions)


def _identity(run: dict[str, Any]) -> dict[str, Any]:
    ident = dict(run.get("identity") or {})
    ident.pop("shard", None)
    return ident


def check_shards(shards: Sequence[ShardRun]) -> None:
    """Refuse shards that do not form exactly one whole run (see the module docstring).

    Raises:
        MergeError: naming the shard(s) and the reason.
    """
    if not shards:
        raise MergeError("no shard run directories given")
    first = shards[0]
    for s in shards[1:]:
        a, b = _identity(first.run), _identity(s.run)
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise MergeError(f"{s.name} and {first.name} are shards of different runs (differ in: "
                             f"{', '.join(diff)})")
        if s.shard.count != first.shard.count:
            raise MergeError(f"{s.name} and {first.name} cut the run into different numbers of shards")
        if s.n_items_total != first.n_items_total:
            raise MergeError(f"{s.name} and {first.name} were cut from item sets of different sizes "
                             f"({s.n_items_total} vs {first.n_items_total} items)")
    seen: dict[int, ShardRun] = {}
    for s in shards:
        if s.shard.index in seen:
            raise MergeError(f"overlapping shards: shard {s.shard} is given twice ({seen[s.shard.index].path} "
                             f"and {s.path})")
        seen[s.shard.index] = s
    n = first.shard.count
    missing = [f"{i}/{n}" for i in range(n) if i not in seen]
    if missing:
        raise MergeError(f"missing shard(s) {', '.join(missing)} of {n}: run them (run.shard=…) and merge all "
                         f"{n} together")


def _check_items(shards: Sequence[ShardRun]) -> list[tuple[int, dict[str, Any]]]:
    """Every shard's items with their dataset positions; each item in its own shard, none twice, all there."""
    owner: dict[str, Path] = {}
    out: list[tuple[int, dict[str, Any]]] = []
    for s in shards:
        rows = [r for _, r in read_jsonl_lines(s.path / ITEMS)]
        if len(rows) != len(s.positions):
            raise MergeError(f"{s.name}: {ITEMS} has {len(rows)} items but run.json lists {len(s.positions)} "
                             "positions")
        for pos, row in zip(s.positions, rows, strict=True):
            iid = str(row.get("item_id"))
            if iid in owner:
                raise MergeError(f"overlapping shards: item {iid!r} is in {owner[iid]} and {s.path}")
            if shard_of(iid, s.shard.count) != s.shard.index:
                raise MergeError(f"{s.name}: item {iid!r} belongs to shard {shard_of(iid, s.shard.count)}/"
                                 f"{s.shard.count}; the shards were cut from different item sets")
            owner[iid] = s.path
            out.append((pos, row))
    total = shards[0].n_items_total
    if len(out) != total:
        raise MergeError(f"the shards hold {len(out)} items but the run has {total}")
    return sorted(out, key=lambda t: t[0])


def _log_keys(s: ShardRun) -> set[str]:
    """The unit keys a shard logged; every record is checked (:meth:`RunRecord.from_dict`), so a malformed
    shard is refused here, naming its file, line and field, not after the merge."""
    path = s.path / VERDICTS
    keys: set[str] = set()
    try:
        for i, row in iter_jsonl_lines(path, tolerate_torn_tail=True):
            if not isinstance(row, dict) or not isinstance(row.get("key"), str):
                raise SchemaError("a record needs a string key", file=str(path), row=i, field="key")
            keys.add(RunRecord.from_dict(row, file=str(path), line=i).key)
    except (StoreError, SchemaError) as e:
        raise MergeError(f"{s.name}: unreadable {VERDICTS} ({e})") from e
    return keys


def _check_finished(shards: Sequence[ShardRun]) -> None:
    keys: dict[str, Path] = {}
    for s in shards:
        ks = _log_keys(s)
        n_units = s.run.get("n_units")
        if not s.run.get("finished") or not isinstance(n_units, int) or len(ks) < n_units:
            raise MergeError(f"{s.name} is unfinished ({len(ks)} of {n_units if n_units is not None else '?'} "
                             "units judged): resume it (rerun its command) before merging")
        for k in ks:
            if k in keys:
                raise MergeError(f"overlapping shards: verdict key {k} is in {keys[k]} and {s.path}")
            keys[k] = s.path


def _lines(path: Path) -> Iterator[bytes]:
    if not path.exists():
        return
    with path.open("rb") as f:
        for line in f:
            if line.strip() and line.endswith(b"\n"):
                yield line


def _merged_run_json(shards: Sequence[ShardRun], n_items: int) -> dict[str, Any]:
    run = {k: v for k, v in shards[0].run.items() if k != "shard"}
    run["identity"] = _identity(shards[0].run)
    run["n_items"] = n_items
    run["n_units"] = sum(int(s.run.get("n_units") or 0) for s in shards)
    counts: dict[str, int] = {}
    for s in shards:
        for k, v in (s.run.get("counts") or {}).items():
            if isinstance(v, int | float):
                counts[k] = counts.get(k, 0) + int(v)
    run["counts"] = counts
    run["merged_from"] = [{"shard": str(s.shard), "path": str(s.path)} for s in shards]
    return run


def merge_shards(paths: Sequence[Path], out: Path, *, overwrite: bool = False) -> Path:
    """Check and merge shard run directories into ``out`` (written to a temporary folder, then renamed).

    Raises:
        MergeError: the shards cannot be merged, or ``out`` exists (without ``overwrite``).
    """
    shards = sorted((load_shard(Path(p)) for p in paths), key=lambda s: s.shard.index)
    check_shards(shards)
    items = _check_items(shards)
    _check_finished(shards)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise MergeError(f"{out} exists and is not empty (pass --overwrite to replace it)")
    tmp = out.with_name(f".{out.name}.merging-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (tmp / ITEMS).open("w", encoding="utf-8") as f:
        for _, row in items:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    for name in (VERDICTS, LABELS):
        with (tmp / name).open("wb") as f:
            for s in shards:
                for line in _lines(s.path / name):
                    f.write(line)
    (tmp / RUN).write_text(json.dumps(_merged_run_json(shards, len(items)), indent=2, ensure_ascii=False,
                                      default=str), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point. Exit codes: 0 merged, 2 refused (the reason is printed), 1 analysis failed."""
    ap = argparse.ArgumentParser(prog="judgeanything-merge", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path, help="shard run directories, or folders holding them")
    ap.add_argument("--out", type=Path, required=True, help="the merged run directory to write")
    ap.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    ap.add_argument("--no-analysis", action="store_true", help="only merge the files (no metrics/report)")
    args = ap.parse_args(argv)
    dirs: list[Path] = []
    for p in args.paths:
        if (p / RUN).is_file():
            dirs.append(p)
        elif p.is_dir():
            dirs.extend(sorted(r.parent for r in p.rglob(RUN) if r.parent != args.out))
        else:
            print(f"judgeanything-merge: {p}: no such run directory", file=sys.stderr)
            return 2
    try:
        out = merge_shards(dirs, args.out, overwrite=args.overwrite)
    except (MergeError, StoreError) as e:
        print(f"judgeanything-merge: {e}", file=sys.stderr)
        return 2
    if not args.no_analysis:
        from judgeanything.report.summary import finish_run

        run = _read_run_json(out)
        analysis = dict((run.get("config") or {}).get("analysis") or {})
        try:
            summary = finish_run(out, analysis=analysis)
        except (StoreError, ValueError) as e:
            print(f"judgeanything-merge: merged into {out}, but its analysis failed: {e}", file=sys.stderr)
            return 1
        print(summary.get("text", ""))
    print(f"merged {len(dirs)} shards into {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
