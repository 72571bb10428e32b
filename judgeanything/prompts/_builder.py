"""Build a judge prompt (setting × mode × rubrics) from an item whose responses are in presentation order.

The user template is rendered to plain text in which every media item is written as a sentinel
``"\\x00<n>\\x00"``; the text is then split on the sentinels, giving text parts and media slots in exactly
the order the template placed them. Text coming from the data (instruction, responses, checklist items)
has NUL characters removed first, so it can never forge a sentinel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judgeanything.prompts._answer import LETTERS, comment_key, output_schema, verdict_key
from judgeanything.prompts._templates import (
    PROMPT_VERSION,
    PromptError,
    RubricSpec,
    load_rubrics,
    load_task_texts,
    render,
    version_dir,
)
from judgeanything.schema import (
    DEFAULT_SCORE_SCALE,
    MODES,
    OVERALL,
    RUBRICS,
    SETTINGS,
    Item,
    MediaRef,
    MediaSlot,
    ProcessItem,
    Prompt,
    Query,
    Response,
    RuleItem,
    ScoreScale,
    TaskType,
    TextPart,
    stable_hash,
)

_SENTINEL = "\x00{}\x00"
_SENTINEL_RE = re.compile("\x00([0-9]+)\x00")
_IMAGE_MARKER_RE = re.compile(r"\{image#(\d+)\}")


def drop_trailing_space(text: str) -> str:
    """``text`` without the spaces or tabs before each line break: ``re.sub(r"[ \\t]+\\n", "\\n", text)``, line by
    line — the regular expression starts a match at every space of the text (~30 µs on a 2.6 kB prompt, ~5
    here), and every prompt is rendered once per unit."""
    lines = text.split("\n")
    last = lines.pop()  # not followed by a line break: kept as it is
    return "\n".join([line.rstrip(" \t") for line in lines] + [last])


def squeeze_blank_lines(text: str) -> str:
    """``text`` with every run of 3+ line breaks cut to 2: ``re.sub(r"\\n{3,}", "\\n\\n", text)`` by substring
    replacement (each pass shortens every run by a third; ~20 µs → ~2 on a prompt)."""
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _clean(text: str) -> str:
    """Data text made safe for the sentinel scheme (NUL removed)."""
    return text.replace("\x00", "")


def data_fence(item: Item) -> dict[str, str]:
    """The markers around the item's data text in prompts from v2 on: ``<<<DATA 1f2e…>>>`` …
    ``<<<END DATA 1f2e…>>>`` (issue 8 item 9).

    The tag is a hash of everything the item shows (instruction, reference, each response's text and media,
    in presentation order), so the prompt of a unit is reproducible (and cacheable) while a response cannot
    know — hence cannot close — the fence it will sit in: its own text is part of the hash. Returns
    ``{"tag", "open", "close"}``.
    """
    shown: list[Any] = [(r.text, [m.to_dict() for m in r.media]) for r in item.responses]
    steps = getattr(item, "steps", None)  # process items: the solution's steps are data shown too
    if steps is not None:
        shown.append(("steps", list(steps)))
    return query_fence(item.query, shown)


def query_fence(query: Query, shown: Sequence[Any] = ()) -> dict[str, str]:
    """The fence of :func:`data_fence` for a query on its own (the checklist-writing prompt, which shows no
    response) or with the ``shown`` responses' ``(text, media)``; same ``{"tag", "open", "close"}``."""
    q = query
    tag = stable_hash("prompt-fence", q.question, q.reference, [m.to_dict() for m in q.media], list(shown), n=12)
    return {"tag": tag, "open": f"<<<DATA {tag}>>>", "close": f"<<<END DATA {tag}>>>"}


def _unfenced(text: str, fence: Mapping[str, str]) -> str:
    """``text`` with any copy of the fence's tag broken by a zero-width space, so data can never write a
    marker of its own fence (it cannot know the tag in advance; this also covers text copied from an
    earlier prompt of the same item)."""
    tag = fence["tag"]
    return text.replace(tag, tag[:6] + "\u200b" + tag[6:]) if tag in text else text


def describe_task(task_name: str, *, version: str = PROMPT_VERSION, template_dir: Path | None = None) -> str:
    """What a good response of this task type looks like, in a sentence or two (prompt data ``tasks.yaml``).

    Known task types (the 15 of TaskAnything, Judge Anything Table 1) have their own text; any other
    ``<Inputs>2<Output>`` name (a plugin modality, e.g. ``Document2Text``) gets a generic sentence.

    Raises:
        SchemaError: ``task_name`` is not of the form ``<Inputs>2<Output>``.
        PromptError: the version folder or ``tasks.yaml`` is missing.
    """
    texts = load_task_texts(version, template_dir)
    if task_name in texts.tasks:
        return texts.tasks[task_name]
    task = TaskType.parse(task_name)

    def noun(m: str) -> str:
        return texts.modalities.get(m, f"{m} content")

    inputs = " and ".join(noun(m) for m in task.inputs)
    return texts.generic.replace("{inputs}", inputs).replace("{output}", noun(task.output))


def _resolve_rubrics(mode: str, rubrics: Sequence[str] | None, known: Mapping[str, RubricSpec],
                     vdir: Path) -> tuple[str, ...]:
    if isinstance(rubrics, str):
        raise PromptError(f"rubrics must be a sequence of names, not the string {rubrics!r}")
    if rubrics is None:
        chosen: tuple[str, ...] = (OVERALL,) if mode == "overall" else RUBRICS
    else:
        chosen = tuple(rubrics)
    if not chosen:
        raise PromptError("rubrics is empty; give at least one rubric (or None for the mode's default)")
    if len(set(chosen)) != len(chosen):
        raise PromptError(f"rubrics repeat: {list(chosen)}")
    if mode == "overall" and chosen != (OVERALL,):
        raise PromptError(f"mode 'overall' judges the single rubric 'overall', got {list(chosen)}; "
                          "use mode 'rubrics' to judge named rubrics")
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise PromptError(f"unknown rubric(s) {unknown}; {vdir / 'rubrics.yaml'} defines {list(known)}")
    return chosen


def _checklist_items(item: Item, rubric: str) -> list[str]:
    cl = item.query.checklist
    if not cl:
        raise PromptError(f"item {item.item_id}: checklist mode needs query.checklist, but query "
                          f"{item.query.uniq_id} has none")
    items = cl.get(rubric)
    if items is None:  # checklist files may capitalise rubric names
        items = next((v for k, v in cl.items() if str(k).lower() == rubric), None)
    if items is None:
        # A query-wide checklist (the release's per-task Checklist/<Task>.json, the probes' facts) is given
        # with every rubric, as the release's judging scripts give a query's whole checklist.
        items = cl.get(OVERALL)
    if isinstance(items, str):
        items = (items,)
    points = [_clean(str(x)).strip() for x in (items or ())]
    points = [p for p in points if p]
    if not points:
        raise PromptError(f"item {item.item_id}: query {item.query.uniq_id} has no checklist items for "
                          f"rubric {rubric!r} (it has: {sorted(map(str, cl))}); judge only the rubrics "
                          f"it has, e.g. mode.rubrics=[{', '.join(sorted(map(str, cl)))}]")
    return points


class _Slots:
    """Hands out sentinels for media items and remembers which ref/role each stands for."""

    def __init__(self) -> None:
        self.slots: list[MediaSlot] = []

    def add(self, ref: MediaRef, role: str) -> str:
        self.slots.append(MediaSlot(ref=ref, role=role))
        return _SENTINEL.format(len(self.slots) - 1)

    def media_context(self, refs: Sequence[MediaRef], role: str,
                      markers: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
        """Template view of a list of media refs: modality, 1-based index and count within the modality,
        and the ``{image#k}`` marker the instruction uses for the k-th image (when it uses one)."""
        counts: dict[str, int] = {}
        for r in refs:
            counts[r.modality] = counts.get(r.modality, 0) + 1
        seen: dict[str, int] = {}
        out = []
        for ref in refs:
            seen[ref.modality] = seen.get(ref.modality, 0) + 1
            k = seen[ref.modality]
            out.append({
                "modality": ref.modality,
                "index": k,
                "count": counts[ref.modality],
                "frames": bool(ref.frames),
                "marker": f"{{image#{k}}}" if ref.modality == "image" and k in markers else "",
                "slot": self.add(ref, role),
            })
        return out


def _response_context(item: Item, resp: Response, pos: int, setting: str, slots: _Slots) -> dict[str, Any]:
    if setting == "score":
        label = "Response"
    elif setting == "pair":
        label = f"Response {pos + 1}"
    else:
        label = f"Response {LETTERS[pos]}"
    if resp.text is None and not resp.media:
        raise PromptError(f"item {item.item_id}: response {resp.response_id} ({resp.model_name}) has neither "
                          "text nor media")
    text = _clean(resp.text) if resp.text is not None else None
    return {
        "label": label,
        "modality": resp.modality,
        "text": text,
        "empty": not resp.media and not (text or "").strip(),
        "media": slots.media_context(resp.media, f"response {pos + 1}"),
    }


def _to_parts(rendered: str, slots: Sequence[MediaSlot], template: str) -> tuple[TextPart | MediaSlot, ...]:
    text = squeeze_blank_lines(drop_trailing_space(rendered)).strip("\n")
    pieces = _SENTINEL_RE.split(text)
    parts: list[TextPart | MediaSlot] = []
    used = [0] * len(slots)
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            if piece:
                parts.append(TextPart(piece))
            continue
        k = int(piece)
        if k >= len(slots):
            raise PromptError(f"template {template} produced an unknown media slot {k}")
        used[k] += 1
        parts.append(slots[k])
    wrong = [(slots[k].role, slots[k].ref.label, n) for k, n in enumerate(used) if n != 1]
    if wrong:
        raise PromptError(f"template {template} must place every media item exactly once; "
                          f"(role, media, times placed): {wrong}")
    return tuple(parts)


def scale_context(scale: ScoreScale) -> dict[str, Any]:
    """Template view of a score scale: ``min``, ``max``, ``labels``, ``quoted`` labels, and the words for
    its ends (``worst``/``best`` or the end labels)."""
    labels = list(scale.labels)
    return {"min": scale.min, "max": scale.max, "labels": labels, "quoted": [f'"{x}"' for x in labels],
            "worst": labels[0] if labels else "worst", "best": labels[-1] if labels else "best"}


def scale_levels(levels: Mapping[int, str], scale: ScoreScale) -> tuple[list[dict[str, Any]], bool]:
    """A rubric's five level descriptions (1..5) placed on ``scale``: ``[{value, label, text}]`` and whether
    whole numbers between the listed ones are allowed.

    A 5-point scale takes the descriptions one to one. A longer unnamed scale lists them as anchors at
    evenly spaced points (1–10: 1, 3, 6, 8, 10; 0–100: 0, 25, 50, 75, 100). A named scale of another length
    lists every level name, with the worst and best descriptions on its ends; a shorter unnamed scale lists
    its ends with those descriptions.
    """
    keys = sorted(levels)
    n = scale.max - scale.min + 1
    if n == len(keys):
        return [{"value": v, "label": scale.label(v), "text": levels[k]} for v, k in zip(scale.values, keys,
                                                                                          strict=True)], False
    if n > len(keys) and not scale.labels:
        step = (scale.max - scale.min) / (len(keys) - 1)
        return [{"value": round(scale.min + i * step), "label": "", "text": levels[k]}
                for i, k in enumerate(keys)], True
    ends = {scale.min: levels[keys[0]], scale.max: levels[keys[-1]]}
    shown = scale.values if scale.labels else (scale.min, scale.max)
    return [{"value": v, "label": scale.label(v), "text": ends.get(v, "")} for v in shown], not scale.labels


def _criteria(item: Item, setting: str, mode: str, chosen: Sequence[tuple[str, RubricSpec]],
              scale: ScoreScale) -> list[dict[str, Any]]:
    """The template context of each chosen rubric: its levels placed on ``scale``, its checklist items
    (checklist mode) and the answer keys it is given under."""
    criteria: list[dict[str, Any]] = []
    for r, spec in chosen:
        placed, between = scale_levels(spec.levels, scale)
        criteria.append({
            "scale_levels": placed,
            "between": between,
            "name": r,
            "title": spec.title,
            "description": spec.description,
            "levels": dict(spec.levels),
            "checklist": _checklist_items(item, r) if mode == "checklist" else [],
            "comment_key": comment_key(r),
            "verdict_key": verdict_key(setting, r),
        })
    return criteria


def _context(item: Item, setting: str, mode: str, chosen: Sequence[tuple[str, RubricSpec]], scale: ScoreScale,
             slots: _Slots, *, version: str, template_dir: Path | None) -> dict[str, Any]:
    """The template context of one item: task, fenced instruction and reference, the query's media slots, each
    response (text fenced, or its media slots), the criteria and the scale. Media slots are registered in
    ``slots`` in prompt order."""
    query = item.query
    task = TaskType.parse(query.task_name)
    fence = data_fence(item)
    question = _unfenced(_clean(query.question).strip(), fence)
    markers = frozenset(int(k) for k in _IMAGE_MARKER_RE.findall(question))
    query_media = slots.media_context(query.media, "query", markers=markers)
    response_ctx = [_response_context(item, r, k, setting, slots) for k, r in enumerate(item.responses)]
    for ctx in response_ctx:
        if ctx["text"] is not None:
            ctx["text"] = _unfenced(ctx["text"], fence)
    n = len(response_ctx)
    return {
        "setting": setting,
        "mode": mode,
        "n": n,
        "letters": list(LETTERS[:n]),
        "task": {
            "name": task.name,
            "inputs": list(task.inputs),
            "output": task.output,
            "family": task.family,
            "guidance": describe_task(task.name, version=version, template_dir=template_dir),
        },
        "question": question,
        "reference": _unfenced(_clean(query.reference).strip(), fence) if query.reference else None,
        "fence": fence,
        "query_media": query_media,
        "responses": response_ctx,
        "criteria": _criteria(item, setting, mode, chosen, scale),
        "scale": scale_context(scale),
    }


def build_prompt(item: Item, mode: str = "overall", rubrics: Sequence[str] | None = None, *,
                 version: str = PROMPT_VERSION, template_dir: Path | None = None,
                 scale: ScoreScale = DEFAULT_SCORE_SCALE) -> Prompt:
    """Render the judge prompt for one item (docs/architecture.md §1 step 4).

    Args:
        item: a ScoreItem / PairItem / BatchItem whose responses are already in presentation order.
        mode: ``overall`` (one holistic verdict), ``rubrics`` (one verdict per rubric, Judge Anything §3.2)
            or ``checklist`` (rubric judging with the query's per-rubric checklist items, §3.3).
        rubrics: ``None`` → ``("overall",)`` in overall mode, :data:`~judgeanything.schema.RUBRICS` otherwise.
        version: the prompt version folder under ``template_dir`` (default ``conf/prompts`` of the package).
        template_dir: a folder with one sub-folder per version (same layout as ``conf/prompts``).
        scale: the score scale asked for (score setting): its range or named levels, with the rubric's level
            descriptions placed on it (:func:`scale_levels`).

    Returns:
        A :class:`~judgeanything.schema.Prompt`: system text; parts in order (instruction text, then the
        query's media as ``MediaSlot(role="query")`` in ``item.query.media`` order, then each response as
        text or ``MediaSlot(role="response k")`` with k = 1-based presentation position, then the criteria
        and the JSON answer format); ``version`` such as ``"v1/pair_rubrics"``; ``output_schema`` from
        :func:`output_schema`; ``n_responses``.

    Raises:
        PromptError: unknown setting/mode/rubric, overall mode with other rubrics, checklist mode without
            checklist items for a rubric, a response with neither text nor media, a batch of fewer than 2
            or more than 26 responses, or a template problem (missing file, undefined variable, misplaced
            media).
    """
    setting = getattr(item, "setting", None)
    if isinstance(item, RuleItem):
        from judgeanything.rules.prompt import build_rule_prompt  # the rules setting has its own layout

        return build_rule_prompt(item, version=version, template_dir=template_dir)
    if isinstance(item, ProcessItem):
        from judgeanything.process.prompt import build_process_prompt  # the process setting has its own layout

        return build_process_prompt(item, version=version, template_dir=template_dir)
    if setting not in SETTINGS:
        raise PromptError(f"item {getattr(item, 'item_id', '?')}: unknown setting {setting!r}; "
                          f"expected one of {', '.join(SETTINGS)}")
    if mode not in MODES:
        raise PromptError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    vdir = version_dir(version, template_dir)
    known = load_rubrics(version, template_dir)
    chosen = _resolve_rubrics(mode, rubrics, known, vdir)
    n = len(item.responses)
    if setting == "batch" and not 2 <= n <= len(LETTERS):
        raise PromptError(f"item {item.item_id}: batch ranking needs 2..{len(LETTERS)} responses, got {n}")

    slots = _Slots()
    context = _context(item, setting, mode, [(r, known[r]) for r in chosen], scale, slots,
                       version=version, template_dir=template_dir)
    name = f"{setting}_{mode}.j2"
    parts = _to_parts(render(vdir, name, context), slots.slots, str(vdir / name))
    system = squeeze_blank_lines(render(vdir, "system.j2", context)).strip()
    return Prompt(
        setting=setting,
        mode=mode,
        rubrics=chosen,
        system=system,
        parts=parts,
        version=f"{version}/{setting}_{mode}",
        output_schema=output_schema(setting, chosen, n, scale=scale),
        n_responses=n,
        scale=scale,
    )
