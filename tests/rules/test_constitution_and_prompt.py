"""Constitution files (errors name file, rule and field), the rule prompt's layout, the yes/no answer reader,
and the probe family's labels by construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgeanything.parsing import parse_output
from judgeanything.prompts import build_prompt
from judgeanything.rules.constitution import DEFAULT_CONSTITUTION, load_constitution
from judgeanything.rules.probes import rule_probes, truth
from judgeanything.schema import MediaSlot, Rule, SchemaError, TextPart


def test_packaged_constitution_loads_with_probe_truths():
    c = load_constitution()
    assert c.path == str(DEFAULT_CONSTITUTION)
    assert [r.id for r in c.rules] == ["too_many_shapes", "red_shape", "written_text", "audible_tone", "motion"]
    assert set(c.probes) == {r.id for r in c.rules}
    assert all(len(r.preconditions) == 1 for r in c.rules)
    assert c.rule("motion").negated.startswith("Nothing moves")


@pytest.mark.parametrize("body, match", [
    ("rules: []", "non-empty list 'rules'"),
    ("rules: [{id: a, statement: x, colour: red}]", r"rule 1: unknown key\(s\) \['colour'\]"),
    ("rules: [{id: a, statement: x}, {id: a, statement: y}]", "row 2, field 'id'.*unique"),
    ("rules: [{id: 'a b', statement: x}]", "field 'id'"),
    ("rules: [{id: a, statement: ''}]", "field 'statement'"),
    ("rules: [{id: a, statement: x, probe: {fact: n, op: '~', value: 1}}]", "rule 'a': probe op '~'"),
    ("rules: [{id: a, statement: x, preconditions: [{statement: y, when: 1}]}]", "precondition 1 has unknown"),
    ("rules: [{id: a, statement: x, preconditions: 'y'}]", "preconditions must be a list"),
    ("rules: [", "not valid YAML"),
])
def test_bad_constitutions_name_file_rule_and_field(tmp_path: Path, body: str, match: str):
    f = tmp_path / "c.yaml"
    f.write_text(body)
    with pytest.raises(SchemaError, match=match) as e:
        load_constitution(f)
    assert str(f) in str(e.value)


def test_missing_constitution_is_named(tmp_path: Path):
    with pytest.raises(SchemaError, match="cannot read"):
        load_constitution(tmp_path / "nope.yaml")


def test_default_negation():
    assert Rule("r", "The image shows a cat.").negated == "It is not the case that the image shows a cat."


def test_rule_prompt_ends_with_the_question_after_the_media(tmp_path: Path):
    data = rule_probes(tmp_path, load_constitution(), size="small")
    item = next(i for i in data.items if i.item_id == "rule::video_000::motion")
    p = build_prompt(item)
    assert p.setting == "rules" and p.rubrics == ("overall",) and p.version == "v2/rules_overall"
    assert isinstance(p.parts[-1], TextPart) and "Claim: Something moves in the video." in p.parts[-1].text
    assert [type(x) for x in p.parts[-2:]] == [MediaSlot, TextPart]
    assert p.output_schema["properties"]["overall_violation"]["enum"] == ["yes", "no"]
    assert '"overall_violation": "<yes or no>"' in p.parts[-1].text
    assert "decide whether a claim about a piece of content is true" in p.system


def test_probe_labels_follow_construction(tmp_path: Path):
    c = load_constitution()
    data = rule_probes(tmp_path, c, size="small")
    facts = {it.query.uniq_id: it.query.meta["facts"] for it in data.items}
    assert len(facts) == 24 and len(data.items) == 24 * 5
    labels = {lab.item_id: lab.value for lab in data.labels}
    kind = {"too_many_shapes": "image", "red_shape": "image", "written_text": "image", "audible_tone": "audio",
            "motion": "video"}
    for it in data.items:
        f = facts[it.query.uniq_id]
        rid = it.rule.id
        held = {"too_many_shapes": f.get("shape_count", 0) > 3, "red_shape": "red" in f.get("colours", []),
                "written_text": f.get("has_text") is True, "audible_tone": f.get("tone_present") is True,
                "motion": f.get("motion") is True}[rid]
        want = "n/a" if kind[rid] != f["modality"] else "yes" if held else "no"
        assert labels[it.item_id] == want == truth(c, rid, f), it.item_id
    assert {"yes", "no", "n/a"} == set(labels.values())
    again = rule_probes(tmp_path, c, size="small")  # cached: same files, same labels
    assert [lab.value for lab in again.labels] == [lab.value for lab in data.labels]


@pytest.mark.parametrize("raw, want", [
    ('{"overall_comment": "five shapes", "overall_violation": "yes"}', "yes"),
    ('{"overall_comment": "", "overall_violation": "No"}', "no"),
    ('{"overall_violation": true}', "yes"),
    ("No.", "no"),
    ("Final answer: yes", "yes"),
    ("Verdict: no violation", "no"),
])
def test_yes_no_answers_are_read(raw: str, want: str):
    (o,) = parse_output(raw, "rules", ["overall"], n_responses=1)
    assert o.value == want, o


@pytest.mark.parametrize("raw", ['{"overall_violation": "yes or no"}', '{"overall_violation": "maybe"}',
                                 "Nothing to see here", "yes/no"])
def test_unreadable_yes_no_is_a_failure(raw: str):
    (o,) = parse_output(raw, "rules", ["overall"], n_responses=1)
    assert not hasattr(o, "value") and o.kind == "parse_fail", o
