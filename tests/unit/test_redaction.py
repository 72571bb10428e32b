"""The one redaction module: which keys are secret, which values, every shape a credential takes in text, the
config walk, Hydra's YAML files, the log filter — and, as properties, that a registered secret never survives
any text around it and that redaction is idempotent."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgeanything import redaction
from judgeanything.redaction import (
    MASK,
    RedactingFilter,
    collect_secrets,
    install_log_redaction,
    is_secret_key,
    looks_like_env_name,
    redact_config,
    redact_text,
    redact_values,
    redact_yaml_file,
    register_secret,
)


@pytest.fixture(autouse=True)
def _own_registry() -> object:
    """Secrets registered by a test are forgotten after it (the registry is process-wide by design)."""
    saved = set(redaction._REGISTERED)
    yield
    redaction._REGISTERED.clear()
    redaction._REGISTERED.update(saved)


@pytest.mark.parametrize("key", ["api_key", "API_KEY", "apiKey", "X-Api-Key", "Authorization", "access_token",
                                 "token", "sig", "password", "client_secret", "x-goog-api-key", "db_passwd",
                                 "Cookie", "privateKey"])
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["max_tokens", "prompt_tokens", "completion_tokens", "keyframes", "monkey",
                                 "api_key_env", "OPENAI_API_KEY_ENV", "model", "base_url", "key_env", "tokenizer"])
def test_keys_that_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


@pytest.mark.parametrize(("value", "is_name"), [("OPENAI_API_KEY", True), ("MY_JUDGE_KEY", True), ("key", True),
                                                ("sk-proj-abcdefghij123", False), ("hf_abcdefghijklmnopqrstuv", False),
                                                ("aB3dE6gH9jK2mN5pQ8sT1vW4", False),
                                                ("a1b2c3d4e5f6a7b8c9d0e1f2", False), ("has space", False)])
def test_env_names_and_keys_pasted_in_their_place(value: str, is_name: bool) -> None:
    assert looks_like_env_name(value) is is_name


def test_credential_shapes_in_text_are_masked() -> None:
    cases = {
        "POST http://user:pw@10.0.0.1:8000/v1/chat": "POST http://***@10.0.0.1:8000/v1/chat",
        "GET https://h/v1?api_key=abc123&x=1": "GET https://h/v1?api_key=***&x=1",
        "https://h/x?sig=Zz9%2F&se=2030&key=k1": "https://h/x?sig=***&se=2030&key=***",
        "header Authorization: Bearer abc.def-ghi": "header Authorization: Bearer ***",
        "echo Basic dXNlcjpwYXNz==": "echo Basic ***",
        "+judge.extra_body={api_key: s3cr3t!, n: 2}": "+judge.extra_body={api_key: ***, n: 2}",
        '{"password": "hunter22", "model": "m"}': '{"password": "***", "model": "m"}',
        "key sk-abcdefghijklmnop and hf_ABCDEFGHIJKLMNOPQRST": f"key {MASK} and {MASK}",
        "judge.api_key_env=aB3dE6gH9jK2mN5pQ8sT1vW4": "judge.api_key_env=***",
    }
    for text, want in cases.items():
        assert redact_text(text) == want, text
    # prose and counts stay as they are
    for text in ("Answer key: B. Relevance: 4", "max_tokens=1024 prompt_tokens: 11", "token: 7 of 9",
                 "judge.api_key_env=OPENAI_API_KEY", "https://h/v1?model=m&page=2"):
        assert redact_text(text) == text


@pytest.mark.parametrize("key", [
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "glpat-abcdefghij1234567890",
    "r8_abcdefghijklmnopqrstuvwxyz0123", "gsk_abcdefghijklmnopqrstuvwxyz0123", "xai-abcdefghijklmnopqrstuvwxyz0123",
    "pplx-abcdefghijklmnopqrstuvwxyz0123", "nvapi-abcdefghijklmnopqrstuvwxyz_0123",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
])
def test_other_providers_key_formats_are_masked_in_any_text(key: str) -> None:
    """Keys of OpenAI-compatible providers (Groq, Replicate, xAI, Perplexity, NVIDIA NIM), GitHub fine-grained and
    GitLab tokens and JWTs, in a raw output, a traceback or a value under a harmless key; not a variable name."""
    assert redact_text(f"the server says: {key}.") == f"the server says: {MASK}."
    assert redact_config({"extra_body": {"user": key}}) == {"extra_body": {"user": MASK}}
    assert not looks_like_env_name(key)
    for text in ("var8_abcdefghijklmnopqrstuvwxyz0123", "eyJhbGciOiJIUzI1NiJ9 only", "r8_short"):
        assert redact_text(text) == text


def test_secrets_in_a_url_fragment_or_matrix_parameter_are_found_and_masked() -> None:
    url = "http://127.0.0.1:9/v1;jsessionid=MATRIXSECRET1#access_token=FRAGSECRET123&state=s1"
    assert set(collect_secrets({"judge": {"base_url": url}})) == {"MATRIXSECRET1", "FRAGSECRET123"}
    shown = redact_text(url)
    assert "SECRET" not in shown and shown.startswith("http://127.0.0.1:9/v1;jsessionid=***") and "&state=s1" in shown
    assert redact_text("http://h/v1#access_token=FRAG2SECRET45&state=s1", []) == "http://h/v1#access_token=***&state=s1"
    # echoed on its own (a server printing the token back) it is masked as a known value
    assert redact_text("echo: FRAGSECRET123") == f"echo: {MASK}"
    assert redact_text("see README.md#install=now and page#top") == "see README.md#install=now and page#top"


def test_config_walk_masks_secret_keys_and_keeps_counts() -> None:
    cfg = {"judge": {"model": "m", "max_tokens": 64, "api_key_env": "OPENAI_API_KEY",
                     "extra_body": {"api_key": "abcdefgh1", "headers": {"X-Api-Key": "xyz"}, "n": 2},
                     "base_url": "http://u:pass1234@h/v1?token=t0k3n"},
           "overrides": ["judge.base_url=http://u:pass1234@h/v1", "+judge.extra_body={token: zzz}"],
           "usage": {"prompt_tokens": 5}}
    out = redact_config(cfg)
    assert out["judge"]["max_tokens"] == 64 and out["usage"] == {"prompt_tokens": 5}
    assert out["judge"]["api_key_env"] == "OPENAI_API_KEY"
    assert out["judge"]["extra_body"] == {"api_key": MASK, "headers": {"X-Api-Key": MASK}, "n": 2}
    assert out["judge"]["base_url"] == "http://***@h/v1?token=***"
    assert out["overrides"][0] == "judge.base_url=http://***@h/v1"
    assert redact_config({"judge": {"api_key_env": "sk-pasted-abcdefgh12"}}) == {"judge": {"api_key_env": MASK}}
    assert redact_config(out) == out  # idempotent


def test_collected_and_environment_secrets_are_masked_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-ENV-5566778899")
    monkeypatch.setenv("JUDGE_KEY_VAR", "plainvalue-no-shape-1234")
    found = collect_secrets({"judge": {"api_key_env": "JUDGE_KEY_VAR", "base_url": "http://me:pw-9988776655@h/v1",
                                       "extra_body": {"nested": {"secret": "inner-7766554433"}}}})
    basic = base64.b64encode(b"me:pw-9988776655").decode()
    assert {"plainvalue-no-shape-1234", "pw-9988776655", basic, "inner-7766554433"} <= set(found)
    raw = ("server says: your key plainvalue-no-shape-1234 / tok-ENV-5566778899 / inner-7766554433, "
           f"auth {basic}")
    assert redact_text(raw) == f"server says: your key {MASK} / {MASK} / {MASK}, auth {MASK}"
    record = {"key": "a1b2c3", "raw": "tok-ENV-5566778899", "usage": {"prompt_tokens": 3}, "media": [{"x": 1}]}
    assert redact_values(record) == {"key": "a1b2c3", "raw": MASK, "usage": {"prompt_tokens": 3},
                                     "media": [{"x": 1}]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40),
       before=st.text(max_size=40), after=st.text(max_size=40))
def test_a_registered_secret_never_survives_its_surroundings(secret: str, before: str, after: str) -> None:
    register_secret(secret)
    out = redact_text(before + secret.strip() + after)
    assert secret.strip() not in out
    assert redact_text(out) == out


def test_yaml_files_are_rewritten_redacted(tmp_path: Path) -> None:
    p = tmp_path / "multirun.yaml"
    p.write_text(yaml.safe_dump({"hydra": {"overrides": {"task": ["judge.base_url=http://u:pw@h/v1?key=k123"]}},
                                "judge": {"extra_body": {"api_key": "abc12345"}, "max_tokens": 5}}))
    assert redact_yaml_file(p) is True
    data = yaml.safe_load(p.read_text())
    assert data["hydra"]["overrides"]["task"] == ["judge.base_url=http://***@h/v1?key=***"]
    assert data["judge"] == {"extra_body": {"api_key": MASK}, "max_tokens": 5}
    assert redact_yaml_file(p) is False  # nothing left to change
    assert not list(tmp_path.glob("*.redacting"))


def test_log_filter_masks_message_args_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda r: records.append(handler.format(r))  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("HTTP Request: POST %s", "http://u:pw@h/v1?api_key=abc987")
        try:
            raise ValueError("bad key sk-abcdefghijklmn0p")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert records[0] == "HTTP Request: POST http://***@h/v1?api_key=***"
    assert "sk-abcdefghijklmn0p" not in records[1] and "ValueError: bad key ***" in records[1]


def test_install_quiets_http_client_request_lines() -> None:
    lg = logging.getLogger("httpx2")
    saved = lg.level
    lg.setLevel(logging.NOTSET)
    try:
        install_log_redaction()
        assert lg.level == logging.WARNING
    finally:
        lg.setLevel(saved)


def test_console_streams_are_redacted_and_keep_the_real_streams_behaviour() -> None:
    import io

    from judgeanything.redaction import RedactingStream

    raw = io.StringIO()
    out = RedactingStream(raw)
    print("GET http://u:pw@h/v1?api_key=abc123 failed", file=out)
    out.writelines(["Authorization: Bearer tok-12345\n"])
    out.flush()
    assert raw.getvalue() == "GET http://***@h/v1?api_key=*** failed\nAuthorization: Bearer ***\n"
    assert out.getvalue() == raw.getvalue() and out.readable() is raw.readable()  # the rest is delegated


_ALL_SECRET_WORDS = sorted(redaction.SECRET_WORDS | set(redaction._SECRET_JOINED))
_FORMS = ["{w}: Zq8vLx2pTn4r", "db_{w}=Zq8vLx2pTn4r", 'ssh {w} = "Zq8vLx2pTn4r"', '{{"{W}": "Zq8vLx2pTn4r"}}']


# a bare prose word ('key: B', 'token: 7') is left alone by design unless it is part of a longer name (the db_ form)
@pytest.mark.parametrize(("word", "form"), [(w, f) for w in _ALL_SECRET_WORDS for f in _FORMS
                                            if f.startswith("db_") or w not in redaction._PROSE_WORDS])
def test_every_secret_word_is_redacted_in_an_assignment(word: str, form: str) -> None:
    """Every name the secret-key rule knows is masked when assigned in free text, whatever the separator or case:
    the cheap prefilter that lets prose skip the assignment walk must never skip one of them (it once missed
    'passphrase')."""
    text = form.format(w=word, W=word.upper())
    out = redact_text(text)
    assert "Zq8vLx2pTn4r" not in out and MASK in out, (text, out)


@pytest.mark.parametrize("key", [
    "sk-" + "a" * 20, "hf_" + "A" * 20, "AIza" + "b" * 24, "ghp_" + "c" * 24, "gho_" + "c" * 24, "xoxb-" + "1" * 12,
    "AKIA" + "ABCDEFGHIJKLMNOP", "github_pat_" + "d" * 24, "glpat-" + "e" * 24, "r8_" + "f" * 24, "gsk_" + "g" * 24,
    "xai-" + "h" * 24, "pplx-" + "i" * 24, "nvapi-" + "j" * 24, "eyJabcdefghij.eyJabcdefghij.abcdefghij"])
def test_every_key_shape_passes_the_prefilter_and_is_masked(key: str) -> None:
    """Each credential shape of _KEY_SHAPES is masked in prose: its prefilter (_SHAPE_HINT) admits every one."""
    assert redaction._KEY_SHAPES.search(key) and redaction._SHAPE_HINT.search(key)
    assert redact_text(f"the server said {key} twice") == f"the server said {MASK} twice"
