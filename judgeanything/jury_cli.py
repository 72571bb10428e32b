"""``judgeanything-jury``: combine the run directories of several judges on the same benchmark into a jury.

The jury's verdict per (item × rubric) comes from the members' verdicts (each member first reduced to one
verdict per item × rubric exactly as the analysis does: repeats by ``--reducer``, both orders by the
``tie`` policy) by majority vote (pair; batch: Borda count), mean / median (scores) or weights learned on a
held-out split of the human labels (:mod:`judgeanything.analysis.jury` gives each rule and its source).

It writes a run directory of its own — ``items.jsonl``, ``labels.jsonl``, ``verdicts.jsonl`` (the run-log
format of :mod:`judgeanything.store`: one record per item, ``judge`` = the jury's name, each member's vote in
``extra.jury.votes``, token usage = the members' summed), ``run.json`` (``kind: jury``, ``judge_kind: jury``,
``members``, ``method``) — so ``analysis.load_run``, the report and ``judgeanything-compare``'s leaderboard
treat it like any judge; and ``jury.json`` / ``jury.md``: Krippendorff's α among the members (overall and
per pair of members) and each member's agreement with the humans on the same items as the jury.

A weighted jury learns on the items of a seeded split by query (``uniq_id``; ``--train-fraction``) and its
run directory holds only the *other* items, so its agreement is measured on items it did not learn from.

Members must share the benchmark, setting, mode, rubrics, score scales and the very same items (ids and
content); otherwise the jury is refused with a message naming the runs that differ.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from judgeanything.analysis import jury as J
from judgeanything.analysis.agreement import agreement
from judgeanything.analysis.load import RunData, load_run
from judgeanything.analysis.markdown import Table, fmt, markdown_environment, md_text
from judgeanything.analysis.metrics import analyze_run
from judgeanything.analysis.repeats import REDUCERS
from judgeanything.analysis.units import combine_orders, human_labels, reduce_repeats
from judgeanything.jsonsafe import json_safe
from judgeanything.schema import Failure, FailureKind, Outcome, SchemaError, Verdict, item_seed
from judgeanything.store import ITEMS, LABELS, RUN, VERDICTS, RunRecord, StoreError, read_jsonl, write_jsonl

#: run.json fields that must be equal across members (None where a member does not record it is allowed).
SAME = ("benchmark", "setting", "mode", "rubrics", "score_scale", "label_scale")
JURY_JSON = "jury.json"
JURY_MD = "jury.md"
JURY_TEMPLATE = "jury.md.j2"


@dataclass
class Member:
    """One member run: its display name, loaded data and raw ``items.jsonl`` rows (by item id)."""

    name: str
    data: RunData
    items: dict[str, dict[str, Any]]


# --------------------------------------------------------------------------------------------------
# Members: load, check they judged the same thing, reduce to one vote per (item × rubric)
# --------------------------------------------------------------------------------------------------


def load_members(run_dirs: Sequence[Path]) -> list[Member]:
    """Load the member runs; names are the judges' names (the run directory's name is added where two
    members share one).

    Raises:
        JuryError: fewer than two runs, or the same directory twice.
        StoreError / SchemaError: an unreadable run directory.
    """
    if len(run_dirs) < 2:
        raise J.JuryError(f"a jury needs at least two member runs, got {len(run_dirs)}")
    resolved = [Path(d).resolve() for d in run_dirs]
    dup = [str(d) for d, c in Counter(resolved).items() if c > 1]
    if dup:
        raise J.JuryError(f"run directory given twice: {', '.join(dup)}")
    datas = [load_run(d) for d in run_dirs]
    names = [d.judge_name for d in datas]
    counts = Counter(names)
    names = [f"{n}@{Path(d).name}" if counts[n] > 1 else n for n, d in zip(names, run_dirs, strict=True)]
    if len(set(names)) < len(names):
        names = [f"{n}#{i}" for i, n in enumerate(names)]
    return [Member(n, d, {str(r["item_id"]): r for r in read_jsonl(Path(d.run_dir) / ITEMS)})
            for n, d in zip(names, datas, strict=True)]


def check_compatible(members: Sequence[Member]) -> str:
    """Refuse members that did not judge the same benchmark the same way; returns the common setting.

    Raises:
        JuryError: a differing run.json field of :data:`SAME`, several settings in one run, or a different
            item set / item content (the message names the runs and what differs).
    """
    ref = members[0]
    for f in SAME:
        vals = {m.name: m.data.run.get(f) for m in members if m.data.run.get(f) is not None}
        if len({json.dumps(v, sort_keys=True) for v in vals.values()}) > 1:
            shown = "; ".join(f"{n} ({m.data.run_dir}): {v!r}" for (n, v), m in
                              zip(vals.items(), [m for m in members if m.data.run.get(f) is not None], strict=True))
            raise J.JuryError(f"the member runs differ in {f}: {shown}; a jury combines runs of one benchmark, "
                              "setting and mode")
    settings = {m.name: m.data.settings for m in members}
    flat = {s for ss in settings.values() for s in ss}
    if len(flat) != 1 or any(len(ss) != 1 for ss in settings.values()):
        raise J.JuryError("a jury needs runs of one and the same setting; the runs hold: "
                          + "; ".join(f"{n}: {ss or 'no verdicts'}" for n, ss in settings.items()))
    for m in members[1:]:
        _same_items(ref, m)
    return flat.pop()


def _same_items(a: Member, b: Member) -> None:
    only_a, only_b = sorted(set(a.items) - set(b.items)), sorted(set(b.items) - set(a.items))
    if only_a or only_b:
        raise J.JuryError(f"member runs {a.name} ({a.data.run_dir}) and {b.name} ({b.data.run_dir}) judged "
                          f"different items: {len(only_a)} only in the first (e.g. {only_a[:3]}), {len(only_b)} "
                          f"only in the second (e.g. {only_b[:3]})")
    edited = [i for i in a.items if a.items[i].get("content") and b.items[i].get("content")
              and a.items[i]["content"] != b.items[i]["content"]]
    if edited:
        raise J.JuryError(f"member runs {a.name} ({a.data.run_dir}) and {b.name} ({b.data.run_dir}) hold "
                          f"{len(edited)} item(s) with the same id but different content (e.g. {edited[:3]})")


Votes = dict[tuple[str, str], Any]


def member_votes(m: Member, setting: str, reducer: str) -> tuple[Votes, dict[tuple[str, str], str]]:
    """One member's vote per (item, rubric) — repeats reduced, orders combined (policy ``tie``) as in the
    analysis — and its failure kind where it gave no verdict at all."""
    v = m.data.verdicts[m.data.verdicts["setting"] == setting]
    units = combine_orders(reduce_repeats(v, setting, reducer), setting, "tie")
    votes = {(str(i), str(r)): val for i, r, val in zip(units["item_id"], units["rubric"], units["value"],
                                                          strict=True)}
    failed = v[v["failure"].notna()]
    fails = {(str(i), str(r)): str(k) for i, r, k in zip(failed["item_id"], failed["rubric"], failed["failure"],
                                                          strict=True) if (str(i), str(r)) not in votes}
    return votes, fails


# --------------------------------------------------------------------------------------------------
# The jury
# --------------------------------------------------------------------------------------------------


@dataclass
class Options:
    method: str
    split: str = "tie"
    learner: str | None = None
    train_fraction: float = 0.5
    seed: int = 0
    reducer: str = "mode"
    name: str | None = None


def train_items(items: Sequence[str], uniq_of: Mapping[str, str], fraction: float, seed: int) -> set[str]:
    """The items whose query (``uniq_id``) falls in the training split: a seeded hash per query, so all the
    items of one query land on the same side (no query is learned from and then evaluated)."""
    return {i for i in items if item_seed(uniq_of.get(i) or i, "jury-split", seed) / 2.0**63 < fraction}


def build_jury(members: Sequence[Member], opt: Options) -> dict[str, Any]:
    """Combine the members; returns everything to write: ``setting, rubrics, item_ids, records, fit,
    votes`` (by rubric: ``(items, members)``), ``train``.

    Raises:
        JuryError: incompatible members, a method the setting does not accept, or no training labels.
    """
    setting = check_compatible(members)
    learner = J.check_method(setting, opt.method, opt.learner)
    ref = members[0].data
    per = [member_votes(m, setting, opt.reducer) for m in members]
    rubrics = sorted({r for votes, fails in per for (_, r) in (*votes, *fails)}, key=lambda r: (r != "overall", r))
    items = list(members[0].items)
    humans = human_labels(ref.labels, ref.items)
    human = {(str(i), str(r)): h for i, r, h in zip(humans["item_id"], humans["rubric"], humans["human"], strict=True)}
    fits: dict[str, J.LearnedJury] = {}
    train: set[str] = set()
    if opt.method == "weighted":
        uniq = dict(zip(ref.items["item_id"], ref.items["uniq_id"].fillna(""), strict=True))
        train = train_items(items, uniq, opt.train_fraction, opt.seed)
        for rb in rubrics:
            rows = [(i, [votes.get((i, rb)) for votes, _ in per]) for i in items if i in train and (i, rb) in human]
            fits[rb] = J.learn_weights(setting, str(learner), [v for _, v in rows], [human[(i, rb)] for i, _ in rows])
    kept = [i for i in items if i not in train]
    table = {rb: [[votes.get((i, rb)) for votes, _ in per] for i in kept] for rb in rubrics}
    ctx = _Ctx(members, per, table, rubrics, setting, opt, fits, member_costs(members))
    records = [rec for k, i in enumerate(kept) if (rec := _record(i, k, ctx)) is not None]
    return {"setting": setting, "learner": learner, "rubrics": rubrics, "item_ids": kept, "records": records,
            "fits": fits,
            "votes": table, "train": train, "human": human}


@dataclass
class _Ctx:
    """What every item's record is built from."""

    members: Sequence[Member]
    per: Sequence[tuple[Votes, dict[tuple[str, str], str]]]
    table: Mapping[str, list[list[Any]]]
    rubrics: Sequence[str]
    setting: str
    opt: Options
    fits: Mapping[str, J.LearnedJury]
    costs: Mapping[str, tuple[dict[str, int], float | None]]


def _record(item: str, k: int, ctx: _Ctx) -> RunRecord | None:
    """The jury's run-log record of the ``k``-th kept item (None when no member has a record of it)."""
    members, per, table, setting, opt = ctx.members, ctx.per, ctx.table, ctx.setting, ctx.opt
    outcomes: list[Outcome] = []
    votes_out, n_split = {}, 0
    for rb in ctx.rubrics:
        votes = table[rb][k]
        fails = [f.get((item, rb)) for _, f in per]
        if all(v is None for v in votes) and all(f is None for f in fails):
            continue
        value, was_split = J.combine(setting, opt.method, votes, split=opt.split, fit=ctx.fits.get(rb))
        votes_out[rb] = {m.name: (list(v) if isinstance(v, tuple) else v) if v is not None else {"failure": f}
                         for m, v, f in zip(members, votes, fails, strict=True)}
        if value is None:
            kinds = Counter(f for f in fails if f)
            detail = "every member failed: " + ", ".join(f"{m.name}: {f}" for m, f in zip(members, fails, strict=True))
            outcomes.append(Failure(cast(FailureKind, kinds.most_common(1)[0][0]), detail, rb))
            continue
        n_split += was_split
        outcomes.append(Verdict(rb, value, f"split vote resolved by split={opt.split}" if was_split else ""))
    if not outcomes:
        return None
    row = members[0].items[item]
    usage, latency = ctx.costs.get(item, ({}, None))
    content = row.get("content")
    return RunRecord(
        key=f"jury|{item}|{row.get('content', '')}", item_id=item, item_content=content,
        task_name=row.get("task_name"), setting=setting, mode=members[0].data.run.get("mode"),
        rubrics=tuple(o.rubric for o in outcomes), order=tuple(range(len(row.get("responses") or []))), repeat=0,
        judge=opt.name, model="jury", prompt_version=members[0].data.run.get("prompt_version", "jury"),
        outcomes=tuple(outcomes), raw="", finish_reason=None, usage=usage, latency_s=latency,
        ts=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        extra={"jury": {"method": opt.method, "votes": votes_out, "split": n_split}})


def member_costs(members: Sequence[Member]) -> dict[str, tuple[dict[str, int], float | None]]:
    """Per item: the members' summed token usage and judge time (what the jury cost)."""
    rec = pd.concat([m.data.records for m in members], ignore_index=True)
    if rec.empty:
        return {}
    g = rec.groupby("item_id")
    tok = g[["prompt_tokens", "completion_tokens"]].sum(min_count=0)
    lat = g["latency_s"].sum(min_count=1)
    return {str(i): ({"prompt_tokens": int(tok.at[i, "prompt_tokens"]),
                      "completion_tokens": int(tok.at[i, "completion_tokens"])},
                     None if pd.isna(lat.at[i]) else round(float(lat.at[i]), 6)) for i in tok.index}


# --------------------------------------------------------------------------------------------------
# Inter-judge agreement and the members' own agreement on the jury's items
# --------------------------------------------------------------------------------------------------


def agreement_report(built: Mapping[str, Any], members: Sequence[Member]) -> dict[str, Any]:
    """Per rubric: Krippendorff's α among the members (and per pair), how many votes were split, and the
    agreement with the humans (the setting's headline metric, no bootstrap) of each member and of the jury
    on the jury's items."""
    setting, names = built["setting"], [m.name for m in members]
    out: dict[str, Any] = {}
    jury_value = {(r.item_id, o.rubric): o.value for r in built["records"] for o in r.outcomes
                  if isinstance(o, Verdict)}
    for rb, table in built["votes"].items():
        sec: dict[str, Any] = {"level": J.ALPHA_LEVEL[setting],
                               "krippendorff_alpha": J.member_alpha(setting, table),
                               "pairwise_alpha": J.pairwise_alpha(setting, table, names),
                               "votes": J.vote_counts(table)}
        labelled = [(k, i) for k, i in enumerate(built["item_ids"]) if (i, rb) in built["human"]]
        acc: dict[str, Any] = {}
        for j, name in enumerate([*names, "jury"]):
            pairs = [(_v(table[k][j] if name != "jury" else jury_value.get((i, rb))), built["human"][(i, rb)])
                     for k, i in labelled]
            pairs = [(a, b) for a, b in pairs if a is not None]
            if pairs:
                stats = agreement(setting, [a for a, _ in pairs], [b for _, b in pairs], n_boot=0)
                acc[name] = {metric: s.value for metric, s in stats.items()} | {"n": len(pairs)}
        sec["agreement_with_humans"] = acc
        out[rb] = sec
    return out


def _v(x: Any) -> Any:
    return tuple(x) if isinstance(x, list) else x


# --------------------------------------------------------------------------------------------------
# Writing the jury's run directory
# --------------------------------------------------------------------------------------------------


def write_jury(out: Path, members: Sequence[Member], built: Mapping[str, Any], opt: Options) -> dict[str, Any]:
    """Write the jury's run directory (module docstring); returns the ``jury.json`` content.

    Raises:
        JuryError: ``out`` is one of the member run directories, or already holds a run that is not a jury.
    """
    out.mkdir(parents=True, exist_ok=True)
    if any(out.resolve() == Path(m.data.run_dir).resolve() for m in members):
        raise J.JuryError(f"{out}: is a member run directory; write the jury elsewhere")
    old = out / RUN
    if old.exists() and json.loads(old.read_text(encoding="utf-8")).get("kind") != "jury":
        raise J.JuryError(f"{out}: holds a judge run, not a jury; choose another --out")
    keep = set(built["item_ids"])
    ref = members[0]
    write_jsonl(out / ITEMS, (ref.items[i] for i in built["item_ids"]))
    write_jsonl(out / LABELS, (r for r in read_jsonl(Path(ref.data.run_dir) / LABELS) if str(r["item_id"]) in keep))
    write_jsonl(out / VERDICTS, (r.to_dict() for r in built["records"]))
    report = json_safe({"method": opt.method, "learner": opt.learner, "split": opt.split,
                         "members": [m.name for m in members], "setting": built["setting"],
                         "items": len(built["item_ids"]), "train_items": len(built["train"]),
                         "weights": {rb: f.describe() for rb, f in built["fits"].items()},
                         "agreement": agreement_report(built, members)})
    (out / JURY_JSON).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / JURY_MD).write_text(jury_markdown(report), encoding="utf-8")
    run = {key: ref.data.run.get(key) for key in (*SAME, "prompt_version")}
    # the members' scores were read onto the labels' scale (analysis.load.on_label_scale): so are the jury's
    run["score_scale"] = run.get("label_scale") or run.get("score_scale")
    run.update(kind="jury", judge=opt.name, judge_kind="jury", method=opt.method, n_items=len(keep),
               members=[{"name": m.name, "run_dir": str(m.data.run_dir), "judge": m.data.judge_name,
                         "judge_kind": m.data.run.get("judge_kind")} for m in members],
               jury={"method": opt.method, "split": opt.split, "learner": opt.learner, "reducer": opt.reducer,
                     "train_fraction": opt.train_fraction if opt.method == "weighted" else None, "seed": opt.seed,
                     "weights": report["weights"]},
               notes=_notes(report, opt), identity={"jury": [str(m.data.run_dir) for m in members],
                                                    "method": opt.method})
    (out / RUN).write_text(json.dumps(json_safe(run), indent=2, ensure_ascii=False), encoding="utf-8")
    return report


def _notes(report: Mapping[str, Any], opt: Options) -> list[str]:
    notes = [f"jury of {len(report['members'])} ({', '.join(report['members'])}) by {opt.method}"
             + (f" ({opt.learner}, learned on {report['train_items']} held-out items; this run holds the other "
                f"{report['items']})" if opt.method == "weighted" else "") + "."]
    for rb, sec in report["agreement"].items():
        a = sec.get("krippendorff_alpha")
        notes.append(f"{rb}: Krippendorff's α among the members ({sec['level']}) = {fmt(a)}.")
    return notes


def jury_markdown(report: Mapping[str, Any]) -> str:
    """``jury.md`` (template ``analysis/templates/jury.md.j2``) of a ``jury.json`` report: the method, the
    members' α and each member's and the jury's agreement with humans, per rubric."""
    members = [str(m) for m in report["members"]]
    return markdown_environment().get_template(JURY_TEMPLATE).render(
        method=md_text(report["method"]), members=md_text(", ".join(members)),
        rubrics=[_rubric_section(rb, sec, members) for rb, sec in report["agreement"].items()])


def _rubric_section(rb: str, sec: Mapping[str, Any], members: Sequence[str]) -> dict[str, Any]:
    """One rubric of ``jury.md``: α among the members and per pair of them (``a / b``), the vote counts, and
    the agreement-with-humans table (``None`` when no item of the rubric has a human label)."""
    pairwise = sec["pairwise_alpha"]  # keyed by analysis.jury.pair_key: found by the names, not split
    acc = sec["agreement_with_humans"]
    metrics = sorted({k for d in acc.values() for k in d if k != "n"})
    return {"name": md_text(rb), "level": md_text(sec["level"]), "alpha": md_text(fmt(sec["krippendorff_alpha"])),
            "votes": md_text(sec["votes"]),
            "pairwise": Table(["members", "α"], [[f"{a} / {b}", fmt(pairwise.get(J.pair_key(a, b)))]
                                                  for a, b in itertools.combinations(members, 2)]),
            "humans": Table(["judge", "n", *metrics], [[n, str(d["n"]), *[fmt(d.get(k)) for k in metrics]]
                                                     for n, d in acc.items()]) if acc else None}


# --------------------------------------------------------------------------------------------------
# Console entry point
# --------------------------------------------------------------------------------------------------


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="judgeanything-jury", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="the member run directories (two or more)")
    ap.add_argument("--out", type=Path, required=True, help="the jury's run directory (created)")
    ap.add_argument("--method", choices=J.METHODS, default="majority",
                    help="majority (pair; batch: Borda), mean / median (score), weighted (learned)")
    ap.add_argument("--split", choices=J.SPLITS, default="tie", help="pair: how a split vote is resolved: "
                    "tie (the jury answers tie) or chair (the first member's vote among the tied choices)")
    ap.add_argument("--learner", default=None, help="weighted: pair accuracy|logistic, score regression, "
                    "batch accuracy (default: the first)")
    ap.add_argument("--train-fraction", type=float, default=0.5, help="weighted: share of queries whose "
                    "labels train the weights (the jury's run holds the others)")
    ap.add_argument("--seed", type=int, default=0, help="weighted: seed of the train/held-out split")
    ap.add_argument("--reducer", choices=REDUCERS, default="mode", help="how a member's repeats are reduced")
    ap.add_argument("--name", default=None, help="the jury's judge name (default jury-<method>)")
    ap.add_argument("--no-analyze", action="store_true", help="do not write metrics.json / report.md / report.html")
    ap.add_argument("--no-html", action="store_true", help="do not write report.html (and its plots)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the analysis")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 ok, 2 a jury that cannot be formed (bad arguments, mismatched runs), 1 unreadable run."""
    a = _args(argv)
    if not 0 < a.train_fraction < 1:
        print(f"judgeanything-jury: --train-fraction {a.train_fraction} must be in (0, 1)", file=sys.stderr)
        return 2
    opt = Options(a.method, a.split, a.learner, a.train_fraction, a.seed, a.reducer, a.name or f"jury-{a.method}")
    try:
        members = load_members(a.runs)
        built = build_jury(members, opt)
        opt.learner = built["learner"]  # the setting's default learner when none was given
        report = write_jury(a.out, members, built, opt)
        if not a.no_analyze:  # what a judge's run gets: metrics, report.md, report.html and its plots
            analyze_run(a.out, bootstrap=a.bootstrap)
            if not a.no_html:
                from judgeanything.report.html import write_html_report

                write_html_report(a.out)
    except J.JuryError as e:
        print(f"judgeanything-jury: {e}", file=sys.stderr)
        return 2
    except (StoreError, SchemaError) as e:
        print(f"judgeanything-jury: {e}", file=sys.stderr)
        return 1
    print(jury_markdown(report))
    print(f"\nwrote the jury's run directory {a.out} ({len(built['records'])} verdict records)", file=sys.stderr)
    return 0


__all__ = ["Member", "Options", "agreement_report", "build_jury", "check_compatible", "load_members", "main",
           "member_votes", "train_items", "write_jury"]


if __name__ == "__main__":
    sys.exit(main())
