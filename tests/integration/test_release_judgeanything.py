"""Judge Anything as published (Hub dataset pudashi/JudgeAnything; scripts in URRealHero/JudgeAnything),
loaded through the commands a user types, from a folder laid out as the release and from the same files
laid out as the HF cache holds them.

The layout written here is the published one: ``X2XRawBenchmark/TaskAnything.json`` (query media paths
relative to ``X2XRawBenchmark/``; ``image_path`` a string, a list, or that list's repr),
``ResponseCollection/JudgeAnything.json`` (response media relative to ``ResponseCollection/``),
``Preference/Human_{Scoring,Pairing}.json``, per-task checklists ``Checklist/<Task>.json`` with rows
``{uniq_id, checklists: [{"checklist": str}, ...]}`` (or one ``Checklist/checklist.json`` with rows
``{uniq_id, rubric, checklists: [str]}``), and OmniArena: ``Arena/arenaresult/Result/
gang_Understanding_record.json`` (uniq_id → outcome strings) with answers in ``Arena/<dir>/<File>.json``
(``answer`` a dict or a list of dicts; ``type`` ``text`` or ``Text``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI, Request  # module level: FastAPI resolves the handler's annotations from module globals
from fastapi.responses import JSONResponse
from PIL import Image

from judgeanything.datasets.arena import OmniArenaDataset
from judgeanything.datasets.judgeanything import JudgeAnythingDataset
from tests.integration.conftest import cli
from tests.support.compose import config_error, run_app
from tests.support.loopback import ThreadedServer

pytestmark = pytest.mark.integration

SHA = "89abcdef0123456789abcdef0123456789abcdef"
ARENA = ["Baichuan-Omni-1.5", "Gemini-1.5", "Next-GPT"]


def _json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _image(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (200, 10, 10)).save(path)
    return path.name


def release(root: Path) -> Path:
    """A two-task Judge Anything release (Text2Text, Image2Text) with every published quirk."""
    q = root / "X2XRawBenchmark"
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        _image(q / "Image2Text" / name)
    queries = [
        {"uniq_id": "tt1", "task_name": "Text2Text", "question": "What is 2+2?"},
        {"uniq_id": "it1", "task_name": "Image2Text", "question": "What colour?", "image_path": "Image2Text/a.jpg"},
        {"uniq_id": "it2", "task_name": "Image2Text", "question": "Which differs?",
         "image_path": ["Image2Text/a.jpg", "Image2Text/b.jpg"]},
        {"uniq_id": "it3", "task_name": "Image2Text", "question": "Tell a story.",
         "image_path": "['Image2Text/c.jpg', 'Image2Text/d.jpg']"},
    ]
    _json(q / "TaskAnything.json", queries)
    models = ["gpt-4o-mllm", "claude", "qwen-vl-max", "Phi3V"]
    _json(root / "ResponseCollection" / "JudgeAnything.json", [
        {"uniq_id": x["uniq_id"], "response_id": f"r-{x['uniq_id']}-{m}", "task_name": x["task_name"],
         "model_name": m, "response": {"type": "text", "content": f"{m} says {len(m)}"}}
        for x in queries for m in models])
    _json(root / "Preference" / "Human_Scoring.json", [
        {"uniq_id": "it1", "task_name": "Image2Text", "model_name": m, "rubric_name": "overall_score",
         "score": 1 + i, "comment": "", "index": 7} for i, m in enumerate(models)])
    _json(root / "Preference" / "Human_Pairing.json", [
        {"uniq_id": "it1", "task_name": "Image2Text", "model_pair": "gpt-4o-mllm_vs_claude",
         "rubric_name": "overall_score", "choice": "2", "comment": "", "index": 7}])
    _json(root / "Checklist" / "Image2Text.json", [
        {"uniq_id": u, "checklists": [{"checklist": f"Does it name the colour in {u}?"},
                                      {"checklist": "Is it one sentence?"},
                                      {"checklist": "Is it one sentence?"}]} for u in ("it1", "it2", "it3")])
    _json(root / "Checklist" / "Text2Text.json",
          [{"uniq_id": "tt1", "checklists": [{"checklist": "Is the result 4?"}]}])
    arena = root / "Arena"
    _json(arena / "arenaresult" / "Result" / "gang_Understanding_record.json", {
        "it1": ["Baichuan-Omni-1.5 vs Gemini-1.5 Gemini-1.5 wins", "Gemini-1.5 vs Next-GPT Gemini-1.5 wins",
                "Next-GPT vs Baichuan-Omni-1.5", "Baichuan-Omni-1.5 vs Next-GPT Baichuan-Omni-1.5 wins"],
        "it2": ["Gemini-1.5 vs Baichuan-Omni-1.5 Gemini-1.5 wins", "Next-GPT vs Gemini-1.5 draw",
                "Baichuan-Omni-1.5 vs Next-GPT Baichuan-Omni-1.5 wins", "Next-GPT vs Gemini-1.5 Gemini-1.5 wins"],
    })
    _json(arena / "gemini" / "Gemini.json",
          [{"uniq_id": u, "answer": {"type": "Text", "content": f"gemini on {u}"}} for u in ("it1", "it2")])
    _json(arena / "nextgpt" / "nextgpt_output.json",
          [{"uniq_id": u, "answer": [{"type": "text", "content": f"nextgpt on {u}"},
                                     {"type": "text", "content": ["more", "text"]}]} for u in ("it1", "it2")])
    _json(arena / "bc-omni" / "Baichuan-Omni-1.5.json",
          [{"uniq_id": u, "answer": {"type": "text", "content": f"baichuan on {u}"}} for u in ("it1", "it2")])
    return root


def _items(run: Path) -> dict[str, dict]:
    return {r["item_id"]: r for r in map(json.loads, (run / "items.jsonl").read_text().splitlines())}


def _quiet(run: Path) -> list[str]:
    return [f"hydra.run.dir={run}", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=0"]



def test_release_folder_with_per_task_checklists_runs_mode_checklist(tmp_path: Path) -> None:
    root = release(tmp_path / "JudgeAnything")
    run = tmp_path / "run"
    run_app("benchmark=judgeanything_release", f"benchmark.root={root}", "setting=score", "mode=checklist",
            "judge=random", *_quiet(run))
    items = _items(run)
    assert len(items) == 16
    media = items["it3::claude"]["query_media"]
    assert [m["path"] for m in media] == ["X2XRawBenchmark/Image2Text/c.jpg", "X2XRawBenchmark/Image2Text/d.jpg"]
    data = JudgeAnythingDataset(**_release_args(root)).load("score")
    q = {i.query.uniq_id: i.query for i in data.items}
    assert q["it1"].checklist == {"overall": ("Does it name the colour in it1?", "Is it one sentence?")}
    assert q["tt1"].checklist == {"overall": ("Is the result 4?",)}
    assert (data.data_root / media[0]["path"]).is_file()
    labels = {(lab.item_id, lab.value) for lab in data.labels}
    assert labels == {("it1::gpt-4o-mllm", 1), ("it1::claude", 2), ("it1::qwen-vl-max", 3), ("it1::Phi3V", 4)}


def _release_args(root: Path) -> dict[str, Any]:
    return {"root": str(root), "task_anything": "X2XRawBenchmark/TaskAnything.json",
            "judge_anything": "ResponseCollection/JudgeAnything.json", "data_dir": ".",
            "query_dir": "X2XRawBenchmark", "response_dir": "ResponseCollection",
            "human_scoring": "Preference/Human_Scoring.json", "human_pairing": "Preference/Human_Pairing.json",
            "checklist": "Checklist"}


def test_single_checklist_file_layout(tmp_path: Path) -> None:
    root = release(tmp_path / "rel")
    _json(root / "Checklist" / "checklist.json", [
        {"uniq_id": "it1", "rubric": "relevance", "checklists": ["Is the colour named?"]},
        {"uniq_id": "it1", "rubric": "Clarity", "checklists": ["Is it short?", "Is it plain?"]}])
    args = {**_release_args(root), "checklist": "Checklist/checklist.json"}
    q = {i.query.uniq_id: i.query for i in JudgeAnythingDataset(**args).load("pair").items}
    assert q["it1"].checklist == {"relevance": ("Is the colour named?",), "clarity": ("Is it short?", "Is it plain?")}
    assert q["tt1"].checklist is None


def _hub(cache: Path, root: Path) -> None:
    base = cache / "datasets--pudashi--JudgeAnything"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(SHA)
    shutil.copytree(root, base / "snapshots" / SHA)


def test_hub_release_read_offline_from_the_hf_cache(tmp_path: Path, hub_cache: Path) -> None:
    _hub(hub_cache, release(tmp_path / "src"))
    run = tmp_path / "run"
    run_app("benchmark=judgeanything_release", "setting=pair", "judge=first", "benchmark.tasks=[Image2Text]",
            *_quiet(run))
    assert sorted(_items(run)) == sorted(f"it{k}::{p}" for k in (1, 2, 3)
                                         for p in ("gpt-4o-mllm_vs_claude", "qwen-vl-max_vs_Phi3V"))
    labels = [json.loads(s) for s in (run / "labels.jsonl").read_text().splitlines()]
    assert [(lab["item_id"], lab["value"]) for lab in labels] == [("it1::gpt-4o-mllm_vs_claude", "second")]


def test_hub_release_missing_offline_says_what_to_download(tmp_path: Path, hub_cache: Path) -> None:
    err = config_error(tmp_path / "r", "benchmark=judgeanything_release", "setting=pair")
    assert "pudashi/JudgeAnything" in err.splitlines()[0] and str(hub_cache) in err
    assert "hf download pudashi/JudgeAnything --repo-type dataset" in err
    assert "--include X2XRawBenchmark/TaskAnything.json" in err
    err = config_error(tmp_path / "r2", "benchmark=judgeanything_release", "setting=score",
                       "benchmark.tasks=[Image2Text,Text2Video]")
    assert "--include Checklist/Image2Text.json --include Checklist/Text2Video.json" in err
    assert "Checklist/*.json" not in err and "Preference/Human_Scoring.json" in err


def test_partial_snapshot_names_the_missing_file(tmp_path: Path, hub_cache: Path) -> None:
    src = release(tmp_path / "src")
    (src / "Preference" / "Human_Pairing.json").unlink()
    _hub(hub_cache, src)
    err = config_error(tmp_path / "r", "benchmark=judgeanything_release", "setting=pair")
    assert "Preference/Human_Pairing.json is missing" in err and "benchmark.human_pairing" in err


@pytest.mark.slow  # starts processes
def test_omniarena_battles_judged_and_ranked_both_ways(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from judgeanything.arena_cli import main as arena_main

    root = release(tmp_path / "rel")
    data = OmniArenaDataset(root=str(root)).load("pair")
    assert len(data.items) == 8 and {lab.annotator for lab in data.labels} == {"arena"}
    first = data.items[0]
    assert (first.item_id, first.response_a.text, first.response_b.text) == (
        "it1::Baichuan-Omni-1.5_vs_Gemini-1.5", "baichuan on it1", "gemini on it1")
    nextgpt = next(i for i in data.items if i.response_a.model_name == "Next-GPT")
    assert nextgpt.response_a.text == "nextgpt on it1\nmore\ntext"
    assert [lab.value for lab in data.labels][:3] == ["second", "first", "tie"]
    run = tmp_path / "run"
    run_app("benchmark=omniarena", f"benchmark.root={root}", "setting=pair", "judge=first", *_quiet(run))
    out = tmp_path / "arena"
    # the judgeanything-arena entry point end to end, once
    p = subprocess.run([sys.executable, "-m", "judgeanything.arena_cli", "--root", str(root), "--run", str(run),
                        "--out", str(out), "--bootstrap", "50"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rk = pd.read_csv(out / "rankings.csv")
    human = rk[(rk.source == "human") & (rk.group == "pooled")]
    # Gemini-1.5: 4 wins and 1 tie in 5 games; Baichuan: 2 wins, 1 tie, 2 losses; Next-GPT: 1 tie... → order.
    assert list(human.model) == ["Gemini-1.5", "Baichuan-Omni-1.5", "Next-GPT"]
    assert dict(zip(human.model, human.games, strict=True)) == {"Gemini-1.5": 5, "Baichuan-Omni-1.5": 5,
                                                                 "Next-GPT": 6}
    assert set(rk.source) == {"human", "judge:first"} and set(rk.group) == {"pooled", "Image2Text"}
    ag = pd.read_csv(out / "agreement.csv")
    assert set(ag.group) == {"pooled", "Image2Text"} and (ag.n_models == 3).all()
    assert ag.ci_method.str.startswith("paired: 8 battles").all()  # the judge ran on exactly the battles
    assert (out / "winrate_human.png").stat().st_size > 1000 and (out / "winrate_judge_first.png").is_file()
    assert "Kendall" in p.stdout
    # Davidson's tie model on the human battles alone: same order, ties modelled instead of halved
    assert arena_main(["--battles", str(root / "Arena/arenaresult/Result/gang_*_record.json"), "--task-anything",
                       str(root / "X2XRawBenchmark/TaskAnything.json"), "--method", "davidson", "--out",
                       str(tmp_path / "dv"), "--bootstrap", "20"]) == 0
    dv = pd.read_csv(tmp_path / "dv" / "rankings.csv")
    pooled = dv[dv.group == "pooled"]
    assert set(dv.method) == {"davidson"} and set(dv.source) == {"human"}
    assert list(pooled.model) == ["Gemini-1.5", "Baichuan-Omni-1.5", "Next-GPT"]
    assert "Davidson tie model" in capsys.readouterr().out


def test_media_of_the_selected_tasks_come_from_the_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    _hub(tmp_path / "hub", release(tmp_path / "src"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # read at call time
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    args = {**_release_args("hf://pudashi/JudgeAnything"), "tasks": ["Image2Text"], "download_media": True}
    data = JudgeAnythingDataset(**args).load("score")
    assert any(n.startswith("media: 4 files of the selected queries") for n in data.notes)
    assert data.data_root == tmp_path / "hub" / "datasets--pudashi--JudgeAnything" / "snapshots" / SHA
    assert all((data.data_root / m.path).is_file() for it in data.items for m in it.query.media)


def _fake_hub(codes: dict[str, tuple[int, str]]) -> ThreadedServer:
    """A loopback server answering the Hub's dataset-info route with a status and an X-Error-Code."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"])
    async def info(request: Request) -> JSONResponse:
        parts = request.url.path.split("/")  # /api/datasets/<owner>/<name>/revision/<rev>
        status, code = codes.get("/".join(parts[3:5]), (404, "RepoNotFound"))
        return JSONResponse({"error": code}, status_code=status, headers={"X-Error-Code": code})

    return ThreadedServer(app, "fake Hub")


@pytest.mark.slow  # starts processes
@pytest.mark.parametrize(("repo", "status", "code", "says"), [
    ("nobody/none", 404, "RepoNotFound", "the Hub has no dataset nobody/none"),
    ("someone/gated", 403, "GatedRepo", "is gated: accept its terms"),
])
def test_an_unknown_or_gated_hub_dataset_is_one_clear_message(tmp_path: Path, repo: str, status: int, code: str,
                                                              says: str) -> None:
    with _fake_hub({repo: (status, code)}) as hub:
        p = cli("benchmark=judgeanything_release", f"benchmark.root=hf://{repo}", "setting=pair",
                *_quiet(tmp_path / "r"), check=False,
                env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "c")})
    errors = [s for s in p.stderr.splitlines() if s.startswith("error:")]
    assert p.returncode == 2 and len(errors) == 1 and says in errors[0], p.stderr[-2000:]
