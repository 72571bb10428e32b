"""The static HTML report of one run: ``<run_dir>/report.html`` plus ``<run_dir>/report_media/``.

One self-contained page (no CDN, no network fetch; inline CSS and vanilla JS under a Content-Security-Policy
nonce): a header with the facts of ``run.json`` and the summary numbers (pooled/macro metrics from
``metrics.csv``, failure counts as the analysis counts them), the plots of :mod:`judgeanything.report.plots`,
then one card per item with the query and responses played in the page (``<img>``, ``<audio controls>``,
``<video controls>``, frame strips), the human labels, every counted verdict record (presentation order,
verdicts, rationale, raw output, failures; a superseded attempt of a retried unit is left out, see
:mod:`judgeanything.report._run`) and flags for judge ≠ human and for verdicts that change with the order.
A task-type ``<select>`` and a "disagreements only" checkbox filter the cards.

Every piece of model or dataset text goes through Jinja2 autoescaping (a response ``<script>…`` is shown
as text). Media paths in ``items.jsonl`` are relative to ``run.json``'s ``data_root``; the files shown are
copied to ``report_media/`` under content-hash names (``copy_media=True``) or linked by relative path.
A file is copied or linked only if it passes the judge's own checks (inside the data root after following
symlinks, a regular non-empty file within ``media.limits``); a missing file, a path escaping the data root or
a file over a limit shows a visible "missing media" note instead of failing the report.
A plugin modality whose encoder offers ``preview(ref, root)`` is shown its own way (a rendered
artifact: its timed screenshots as a strip, linked to its code as text).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jinja2
import pandas as pd

from judgeanything.analysis.load import RunData
from judgeanything.analysis.parsing_stats import parse_stats
from judgeanything.modalities import UnknownModalityError, get_encoder
from judgeanything.modalities._files import (
    ESCAPES,
    NOT_FOUND,
    NOT_REGULAR,
    check_file,
    resolve_media_path,
    sha256_file,
)
from judgeanything.modalities.base import MediaError
from judgeanything.modalities.image import image_header_size
from judgeanything.modalities.limits import DEFAULT_LIMITS, MediaLimits
from judgeanything.report._run import RunFiles, agrees, as_value, finite, read_run
from judgeanything.report.plots import PLOTS_DIR, write_plots_for
from judgeanything.schema import AUDIO, IMAGE, VIDEO, Failure, MediaRef, Verdict
from judgeanything.store import RunRecord, cap_text

log = logging.getLogger(__name__)

REPORT_HTML = "report.html"
MEDIA_DIR = "report_media"
_PLOT_TITLES = {
    "agreement_by_task.png": "Agreement with humans by task type",
    "offset_heatmap.png": "Judge − human score offset by modality",
    "calibration.png": "Calibration of token-probability verdicts",
    "difficulty_curves.png": "Agreement by probe difficulty knob",
}


def write_html_report(run_dir: Path | str, *, max_items: int | None = 500, copy_media: bool = True,
                      data: RunData | None = None) -> Path:
    """Write ``run_dir/report.html`` (and ``run_dir/report_media/``, ``run_dir/plots/``).

    Args:
        run_dir: a run directory (see :mod:`judgeanything.store`).
        max_items: cards for the first N items of ``items.jsonl`` (a note says how many were left out);
            ``None`` shows every item.
        copy_media: copy the media shown into ``report_media/`` under SHA-256 names so the folder is
            portable; ``False`` links the files where they are (relative paths).
        data: the run already loaded by :func:`judgeanything.analysis.load_run` (not read again).

    Returns:
        The path of ``report.html``. The plots are (re)drawn first with
        :func:`~judgeanything.report.plots.write_plots`.

    Raises:
        FileNotFoundError: not a run directory (no ``run.json``).
        StoreError / SchemaError: a missing ``verdicts.jsonl`` or a malformed run file (names the file and
            line; see :func:`judgeanything.analysis.load_run`).
        ValueError: ``max_items`` is negative.
    """
    if max_items is not None and max_items < 0:
        raise ValueError(f"max_items must be >= 0 or None, got {max_items}")
    run = read_run(run_dir, data, max_items=max_items)
    plots = write_plots_for(run)
    media = _MediaResolver(run.run_dir, _data_root(run), copy_media, _media_limits(run),
                           ((run.run.get("config") or {}).get("media") or {}))
    shown = run.items if max_items is None else run.items[:max_items]
    cards = [_card(run, item, media) for item in shown]
    media.prune()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("judgeanything.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template("report.html.j2").render(
        nonce=secrets.token_urlsafe(16),
        title=f"judgeanything report — {_name(run.run.get('judge')) or run.run_dir.name}",
        facts=_facts(run),
        run_json=json.dumps(run.run, indent=2, ensure_ascii=False, default=str),
        notes=[str(n) for n in run.run.get("notes") or ()] + ([str(run.data.set_aside_note())]
                                                                if run.data.set_aside_note() else []),
        summary=_summary(run),
        ci_label=run.ci_label,
        failures=_failure_counts(run),
        plots=[{"src": f"{PLOTS_DIR}/{p.name}", "title": _PLOT_TITLES.get(p.name, p.stem)} for p in plots],
        cards=cards,
        task_types=sorted({c["task"] for c in cards}),
        n_items=run.n_items,
        n_disagree=sum(c["disagree"] for c in cards),
    )
    out = run.run_dir / REPORT_HTML
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------------------


def _name(x: Any) -> str:
    """A display name for a run.json entry that is a string or a config/fingerprint dict."""
    if x is None:
        return ""
    if isinstance(x, dict):
        name = x.get("name") or x.get("_target_") or ""
        model = x.get("model") or x.get("model_name") or ""
        return f"{name} ({model})" if model and model != name else str(name or model)
    return str(x)


def _facts(run: RunFiles) -> list[tuple[str, str]]:
    r = run.run
    versions = sorted(run.prompt_versions)
    models = sorted(run.models)
    fingerprint = r.get("judge_fingerprint")
    fp_model = fingerprint.get("model") if isinstance(fingerprint, dict) else None
    judge = _name(r.get("judge"))
    superseded = str(run.n_logged - run.n_counted) if run.n_logged > run.n_counted else ""
    facts = [
        ("judge", f"{judge} ({fp_model})" if fp_model and fp_model not in judge else judge),
        ("model", ", ".join(models)),
        ("benchmark", _name(r.get("benchmark"))),
        ("setting", _name(r.get("setting"))),
        ("mode", _name(r.get("mode"))),
        ("rubrics", ", ".join(str(x) for x in r.get("rubrics") or ())),
        ("prompt version", _name(r.get("prompt_version")) or ", ".join(versions)),
        ("items", str(run.n_items)),
        ("human labels", str(len(run.data.labels))),
        ("verdict records", str(run.n_counted)),
        ("superseded records (a retried failure, a key logged twice)", superseded),
        ("data root", _name(r.get("data_root"))),
        ("finished", _name(r.get("finished"))),
        ("run directory", str(run.run_dir)),
    ]
    return [(k, v) for k, v in facts if v]


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def _summary(run: RunFiles) -> dict[str, Any]:
    """Pooled and macro agreement numbers of metrics.csv as a table: one row per (setting, aggregate,
    metric), one column per rubric, cells ``value [ci_low, ci_high]``; plus the pooled prompt-injection
    susceptibility rows when the run held injection probes. Failure rows (``failures:*``) are left out: the
    failure table counts them from the analysis frames."""
    rubrics: list[str] = []
    cells: dict[tuple[str, str, str], dict[str, str]] = {}
    df = run.metrics
    keep = df["group_by"].isin(["pooled", "macro"]) | ((df["group_by"] == "prompt_injection") & (df["group"] == "all"))
    df = df[keep & ~df["metric"].str.startswith("failures:")]
    for r in df.itertuples(index=False):
        if r.rubric not in rubrics:
            rubrics.append(str(r.rubric))
        lo, hi = finite(r.ci_low), finite(r.ci_high)
        ci = f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None and hi is not None else ""
        n = "" if pd.isna(r.n) else f" (n={int(r.n)})"
        cells.setdefault((str(r.setting), str(r.group_by), str(r.metric)), {})[str(r.rubric)] = (
            f"{_fmt(finite(r.value)) or '—'}{ci}{n}"
        )
    rows = [
        {"setting": k[0], "group_by": k[1], "metric": k[2], "cells": [v.get(rb, "") for rb in rubrics]}
        for k, v in cells.items()
    ]
    return {"rubrics": rubrics, "rows": rows}


def _failure_counts(run: RunFiles) -> dict[str, Any]:
    """Verdicts and failures per item × rubric, as the analysis counts them (``coverage`` in metrics.csv)."""
    failure = run.data.verdicts["failure"]
    kinds = Counter(str(k) for k in failure.dropna())
    n_verdicts = int(failure.isna().sum())
    total = len(failure)
    strict = parse_stats(run.data.verdicts)["strict_parse_rate"]
    return {
        "verdicts": n_verdicts,
        "failures": sum(kinds.values()),
        "by_kind": sorted(kinds.items()),
        "coverage": f"{n_verdicts / total:.1%}" if total else "",
        "strict_parse_rate": f"{strict:.1%}" if strict is not None else "",
    }


# --------------------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------------------


def _media_limits(run: RunFiles) -> MediaLimits:
    """The media limits the run was judged under (``run.json`` ``config.media.limits``; the defaults when it
    records none or an unreadable value)."""
    cfg = run.run.get("config")
    media = cfg.get("media") if isinstance(cfg, dict) else None
    section = media.get("limits") if isinstance(media, dict) else None
    try:
        return MediaLimits.from_config(section if isinstance(section, dict) else None)
    except ValueError:
        return DEFAULT_LIMITS


def _data_root(run: RunFiles) -> Path | None:
    """``run.json``'s ``data_root``: absolute as is; relative, against the run directory then the cwd."""
    raw = run.run.get("data_root")
    if not raw:
        return None
    p = Path(str(raw)).expanduser()
    if p.is_absolute():
        return p
    for base in (run.run_dir, Path.cwd()):
        if (base / p).is_dir():
            return (base / p).absolute()
    return run.run_dir / p


class _MediaResolver:
    """Resolves ``items.jsonl`` media dicts into view dicts for the template, copying files on demand.

    The report obeys the judge's confinement: a file is shown only if it passes the very checks the judge's
    encoders apply (:func:`~judgeanything.modalities._files.resolve_media_path`: inside the data root after
    following symlinks; :func:`~judgeanything.modalities._files.check_file`: a non-empty regular file within
    ``media.limits.max_file_bytes`` as the run recorded it, and an image within ``max_pixels`` by its header)
    — a symlink the judge refused as escaping the root
    is never copied. Copies are written atomically (a temporary file renamed into place) under their content
    hash, and a copy already there is reused only if its bytes still hash to its name (a truncated or edited
    copy is written again).
    """

    def __init__(self, run_dir: Path, root: Path | None, copy: bool, limits: MediaLimits = DEFAULT_LIMITS,
                 media_options: Mapping[str, Any] | None = None) -> None:
        self.run_dir, self.root, self.copy, self.limits = run_dir, root, copy, limits
        self.media_options = dict(media_options or {})
        self.out_dir = run_dir / MEDIA_DIR
        self._src: dict[Path, str] = {}
        self.used: set[str] = set()

    def _locate(self, rel: str) -> tuple[Path | None, str]:
        """The file for a data-root-relative path, or ``(None, reason)`` (the judge's own reason)."""
        if self.root is None:  # the judge resolved against its working directory, unknown here
            return None, "run.json has no data_root to resolve this relative path"
        try:
            p = resolve_media_path(self.root, rel)
            check_file(p, rel, self.limits)
        except MediaError as e:  # the page shows the kind of refusal, not the absolute paths the judge logs
            short = next((k for k in (ESCAPES, NOT_FOUND, NOT_REGULAR) if e.reason.startswith(k)), e.reason)
            return None, short
        return p, ""

    def _src_for(self, p: Path) -> str:
        if p in self._src:
            return self._src[p]
        if self.copy:
            digest = sha256_file(p)
            name = digest[:32] + p.suffix.lower()
            self._copy_verified(p, self.out_dir / name, digest)
            self.used.add(name)
            src = f"{MEDIA_DIR}/{name}"
        else:
            src = quote(Path(os.path.relpath(p.absolute(), self.run_dir.absolute())).as_posix())
        self._src[p] = src
        return src

    def _copy_verified(self, src: Path, dest: Path, digest: str) -> None:
        """``dest`` holding ``src``'s bytes (SHA-256 ``digest``): kept if it already does, else copied to a
        temporary file in the same folder and renamed over it (a reader never sees a partial copy)."""
        if dest.is_file() and sha256_file(dest) == digest:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.out_dir, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
                shutil.copyfileobj(inp, out, 1 << 20)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _file(self, kind: str, rel: str) -> dict[str, Any]:
        p, why = self._locate(rel)
        if p is None:
            return {"kind": "missing", "label": rel, "note": why}
        if kind == IMAGE:
            # the judge refused an image over media.limits.max_pixels from its header; the page must not hand
            # it to the browser either (a 30000² single-colour PNG is 150 KB on disk, 2.7 GB decoded)
            try:
                image_header_size(p, self.limits, rel)
            except MediaError as e:
                return {"kind": "missing", "label": rel, "note": e.reason}
        return {"kind": kind, "label": rel, "src": self._src_for(p)}

    def view(self, ref: dict[str, Any]) -> dict[str, Any]:
        """A template view of one media dict (``MediaRef.to_dict`` form)."""
        modality = str(ref.get("modality", ""))
        if ref.get("text") is not None:
            return {"kind": "text", "label": modality, "text": str(ref["text"])}
        if ref.get("frames"):
            frames = [self._file("image", str(f)) for f in ref["frames"]]
            return {"kind": "frames", "label": f"{len(frames)} frames", "frames": frames}
        if ref.get("path") is not None:
            if modality not in (IMAGE, AUDIO, VIDEO, "text"):
                shown = self._plugin_preview(modality, str(ref["path"]))
                if shown is not None:
                    return shown
            kind = modality if modality in (IMAGE, AUDIO, VIDEO) else "file"
            return self._file(kind, str(ref["path"]))
        if ref.get("url") is not None:
            url = str(ref["url"])
            if urlparse(url).scheme in ("http", "https"):
                return {
                    "kind": "link",
                    "label": url,
                    "src": url,
                    "note": "remote media: not embedded (the report fetches nothing by itself)",
                }
            return {"kind": "missing", "label": url[:80], "note": "URL scheme not shown in the report"}
        if ref.get("sha256"):
            return {
                "kind": "missing",
                "label": f"{modality} bytes sha256 {str(ref['sha256'])[:16]}…",
                "note": "given as in-memory bytes; not stored in the run",
            }
        return {"kind": "missing", "label": modality or "media", "note": "no path, URL or text"}

    def _plugin_preview(self, modality: str, rel: str) -> dict[str, Any] | None:
        """A plugin modality's own view, when its encoder offers ``preview(ref, root)`` (returning
        ``{"images": [paths], "captions": [...], "source": path}`` or ``{"error": reason, "source": ...}``):
        the images as a strip (e.g. a rendered artifact's timed screenshots) with a link to the source file.
        The source passes the same confinement checks as any media file; the images are the plugin's own
        outputs (renders it made from that source), not dataset files. ``None`` when the plugin has no
        preview or cannot be loaded (the file is then linked as it is)."""
        if self.root is None:
            return None
        opts = dict(self.media_options.get(modality) or {})
        try:
            encoder = get_encoder(modality, **opts)
        except (UnknownModalityError, ValueError, TypeError) as e:
            log.info("no %s preview in the report: %s", modality, e)
            return None
        preview = getattr(encoder, "preview", None)
        if not callable(preview):
            return None
        got = preview(MediaRef(modality, path=rel), self.root)
        src = got.get("source")
        source: dict[str, Any] = {"kind": "missing", "label": rel, "note": "no source file"}
        if src is not None:
            shown = os.path.relpath(Path(src).absolute(), self.root.absolute())
            p, why = self._locate(shown)
            source = {"kind": "file", "label": shown, "src": self._as_text(p)} if p is not None else \
                {"kind": "missing", "label": shown, "note": why}
        if got.get("error"):
            return {"kind": "strip", "label": f"{rel}: {got['error']}", "frames": [], "source": source}
        captions = [str(c) for c in got.get("captions") or []]
        frames = [{"kind": "image", "label": c, "src": self._src_for(Path(img))}
                  for img, c in zip(got.get("images") or [], captions, strict=False)]
        return {"kind": "strip", "label": f"{rel} ({' · '.join(captions)})", "frames": frames, "source": source}

    def _as_text(self, p: Path) -> str:
        """A copy of a source file as ``.txt`` (an artifact's HTML opened from the report would run its
        scripts; as text the browser only shows it), or its relative path when media are not copied."""
        if not self.copy:
            return self._src_for(p)
        digest = sha256_file(p)
        name = digest[:32] + p.suffix.lower() + ".txt"
        self._copy_verified(p, self.out_dir / name, digest)
        self.used.add(name)
        return f"{MEDIA_DIR}/{name}"

    def prune(self) -> None:
        """Remove files of earlier reports from ``report_media/`` that this report no longer shows."""
        if not self.copy or not self.out_dir.is_dir():
            return
        for f in self.out_dir.iterdir():
            if f.is_file() and f.name not in self.used:
                f.unlink()


# --------------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------------


#: Characters of a raw output shown on a card (head and tail kept): a page of 500 cards stays readable.
RAW_SHOWN = 4000


def _raw_view(rec: RunRecord) -> dict[str, Any]:
    """The raw output as a card shows it: shortened to :data:`RAW_SHOWN` characters, with its full length and
    a note when it was shortened here or when the run log stored it shortened (``raw_chars``/``raw_cap``)."""
    shown, cut = cap_text(rec.raw, RAW_SHOWN)
    notes = []
    if cut:
        notes.append(f"shortened to {RAW_SHOWN:,} here")
    if rec.raw_cap is not None:
        notes.append(f"stored shortened to run.max_raw_chars={rec.raw_cap:,}")
    return {"raw": shown, "raw_chars": rec.raw_chars if rec.raw_chars is not None else len(rec.raw),
            "raw_note": "; ".join(notes)}


def _show_value(setting: str, v: Any) -> str:
    v = as_value(v)
    if setting == "pair" and v in ("first", "second"):
        return f"{v} (Response {1 if v == 'first' else 2} better)"
    if isinstance(v, tuple):
        return " > ".join(f"R{int(s) + 1}" for s in v)
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def _order_text(setting: str, order: Any) -> str:
    if not order or setting == "score":
        return ""
    shown = ", ".join(f"Response {int(s) + 1}" for s in order)
    swapped = list(order) != sorted(order)
    return f"presented as: {shown}" + (" (swapped)" if swapped and setting == "pair" else "")


def _inconsistent(records: list[RunRecord]) -> list[str]:
    """Rubrics whose verdict differs between records shown in different orders."""
    seen: dict[str, list[tuple[tuple[int, ...], Any]]] = {}
    for rec in records:
        for o in rec.outcomes:
            if isinstance(o, Verdict):
                seen.setdefault(o.rubric, []).append((rec.order, o.value))
    return sorted(r for r, vals in seen.items() if any(o1 != o2 and v1 != v2 for o1, v1 in vals for o2, v2 in vals))


def _outcome_view(setting: str, o: Verdict | Failure, human: Any) -> dict[str, Any]:
    """One outcome on a card: a failure's kind and detail, or a verdict with whether it agrees with the humans."""
    if isinstance(o, Failure):
        return {"rubric": o.rubric, "failure": o.kind, "detail": o.detail}
    return {"rubric": o.rubric, "value": _show_value(setting, o.value), "agrees": agrees(setting, o.value, human),
            "expected": _fmt(finite(o.expected)), "comment": o.comment,
            "probs": " · ".join(f"{k} {float(p):.2f}" for k, p in (o.probs or {}).items())}


def _record_view(setting: str, rec: RunRecord, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"order": _order_text(setting, list(rec.order)), "repeat": rec.repeat, "judge": _name(rec.judge),
            "model": rec.model or "", "finish_reason": rec.finish_reason or "", **_raw_view(rec),
            "outcomes": outcomes, "has_comment": any(o.get("comment") for o in outcomes)}


def _card(run: RunFiles, item: dict[str, Any], media: _MediaResolver) -> dict[str, Any]:
    setting = run.setting_of(item)
    item_id = str(item["item_id"])
    labels = run.labels_of(item_id)
    responses = []
    for k, resp in enumerate(item.get("responses") or ()):
        responses.append(
            {
                "label": f"Response {k + 1}",
                "model": str(resp.get("model_name") or ""),
                "modality": str(resp.get("modality") or ""),
                "text": None if resp.get("text") is None else str(resp["text"]),
                "media": [media.view(m) for m in resp.get("media") or ()],
            }
        )
    human = [
        {
            "rubric": rubric,
            "given": [(annotator, _show_value(setting, value)) for annotator, value in rows],
            "consensus": _show_value(setting, run.human(item_id, rubric)) if len(rows) > 1 else "",
        }
        for rubric, rows in labels.items()
    ]
    records, disagree_rubrics, failed = [], set(), False
    for rec in run.verdicts_of(item_id):
        outcomes = [_outcome_view(setting, o, run.human(item_id, o.rubric)) for o in rec.outcomes]
        failed = failed or any("failure" in o for o in outcomes)
        disagree_rubrics |= {o["rubric"] for o in outcomes if o.get("agrees") is False}
        records.append(_record_view(setting, rec, outcomes))
    inconsistent = _inconsistent(run.verdicts_of(item_id))
    return {
        "item_id": item_id,
        "uniq_id": str(item.get("uniq_id") or ""),
        "task": str(item.get("task_name") or "unknown"),
        "setting": setting,
        "question": str(item.get("question") or ""),
        "query_media": [media.view(m) for m in item.get("query_media") or ()],
        "responses": responses,
        "human": human,
        "records": records,
        "judge_vs_human": sorted(disagree_rubrics),
        "inconsistent": inconsistent,
        "failed": failed,
        "disagree": bool(disagree_rubrics or inconsistent),
    }


__all__ = ["MEDIA_DIR", "REPORT_HTML", "write_html_report"]
