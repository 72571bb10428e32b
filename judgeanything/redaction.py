"""The one redaction of credentials, used by every sink that writes or prints (run.json, the run log, the judge
cache, Hydra's own files, log handlers, error messages on the console).

Secrets come from the environment only and must never reach a file or a log. They leak in three shapes, each
handled here:

* **Known values** — the values of environment variables whose names look secret (``OPENAI_API_KEY``,
  ``HF_TOKEN``, ``*_PASSWORD``…), of the variable a judge reads its key from (``judge.api_key_env``), and
  every value :func:`collect_secrets` finds in the run's config. They are replaced wherever they appear:
  a server echoing the ``Authorization`` header into its completion, a proxy quoting the key in an error.
* **Shapes** — URL userinfo (``http://user:PASS@host``), secret query parameters (``?api_key=``, ``key``,
  ``token``, ``access_token``, ``sig``…), ``Bearer``/``Basic`` credentials, ``secret_key: value``
  assignments in text (a Hydra override ``+judge.extra_body={api_key: ...}``), and well-known key formats
  (``sk-…``, ``hf_…``, ``AIza…``, ``ghp_…``, ``xox?-…``, ``AKIA…``).
* **Keys** — in a config tree, the value under a secret-looking key (``api_key``, ``Authorization``,
  ``X-Api-Key``, ``access_token``, ``password``… — but not ``max_tokens``: keys are split into words), and a
  ``*_env`` value that is not a variable name (a key pasted where its variable's name belongs).

Everything is replaced by :data:`MASK`. Redaction is idempotent, so a sink may apply it to text that was
already redacted.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MASK = "***"

#: Words that make a config key (or a query parameter) secret, after splitting it into lower-case words.
SECRET_WORDS = frozenset({
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "passphrase", "authorization", "auth",
    "credential", "credentials", "cookie", "sig", "signature", "bearer", "privatekey", "accesskey", "secretkey",
    "sas", "jwt", "session", "sessionid",
})
#: Whole-key spellings that are secret although no single word is (``apiKey`` → ``api``, ``key`` is caught;
#: ``xapikey`` written as one word is not).
_SECRET_JOINED = ("apikey", "accesstoken", "authtoken", "secretkey", "privatekey", "clientsecret", "password",
                  "sessionid")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
#: An environment variable name as a config would give it (a key pasted instead has other characters, or
#: matches a known key format, or is long and mixed like a random string).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: Well-known credential formats (OpenAI/Anthropic-style, Hugging Face, Google API, GitHub classic and
#: fine-grained, GitLab, Slack, AWS ids, Replicate, Groq, xAI, Perplexity, NVIDIA NIM, and JSON Web Tokens).
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:sk-[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_\-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_\-]{20,}"
    r"|(?:r8|gsk)_[A-Za-z0-9]{20,}|(?:xai|pplx|nvapi)-[A-Za-z0-9_\-]{20,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})")
_URL_USERINFO = re.compile(r"(?P<scheme>(?<![a-zA-Z0-9+.\-])[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s@?#'\"]+)@")
#: ``?name=value`` / ``&`` / ``;`` (matrix parameters) / ``#`` (a fragment such as OAuth's ``#access_token=``).
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;#](?P<name>[A-Za-z0-9_.\-]+)=)(?P<value>[^&#\s'\"<>]+)")
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)\s+(?P<value>[A-Za-z0-9._~+/=\-]{4,})")
#: ``name: value`` / ``name=value`` in free text (Hydra overrides, YAML dumps, messages): the name is checked
#: with :func:`is_secret_key`; the value is one quoted string or a run of characters up to a separator (see
#: :func:`_redact_assignments`). Schemes and key shapes start only where a run of their characters starts:
#: matching from inside a run would rescan it from every position — quadratic on a long raw output.
#: Known values shorter than this are not treated as secrets (``1``, ``true``, ``EMPTY`` would mask text).
MIN_SECRET_LEN = 8

_LOCK = threading.Lock()
_REGISTERED: set[str] = set()
_ENV_CACHE: tuple[int, frozenset[str]] = (0, frozenset())


# --------------------------------------------------------------------------------------------------
# What is secret
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def key_words(key: str) -> tuple[str, ...]:
    """A key split into lower-case words: ``X-Api-Key`` → ``[x, api, key]``, ``apiKey`` → ``[api, key]``."""
    return tuple(w for w in _WORD_SPLIT.split(_CAMEL.sub("_", str(key)).lower()) if w)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a config key / header / query parameter names a credential (``api_key``, ``Authorization``,
    ``access_token``, ``sig``; not ``max_tokens``, ``prompt_tokens``, ``keyframes``, nor a ``*_env`` name)."""
    words = key_words(key)
    if not words or words[-1] == "env":
        return False
    joined = "".join(words)
    return any(w in SECRET_WORDS for w in words) or any(s in joined for s in _SECRET_JOINED)


def looks_like_env_name(value: str) -> bool:
    """Whether ``value`` reads as an environment variable's name rather than as a credential pasted in its
    place (``OPENAI_API_KEY`` yes; ``sk-proj-…``, ``hf_AbC…``, a 40-character random string no)."""
    if not _ENV_NAME.match(value) or _KEY_SHAPES.search(value):
        return False
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return not (len(value) >= 20 and (mixed or "_" not in value))


def shown_env_name(value: str) -> str:
    """A ``*_env`` value as it may be quoted in a message: itself when it is a variable name, else a note
    (it is a credential pasted in the wrong place, and quoting it would print it)."""
    return value if looks_like_env_name(value) else f"{MASK} (this is not a variable name; it looks like a key)"


def register_secret(value: Any) -> None:
    """Treat ``value`` as a secret from now on, in every sink of this process (ignored when shorter than
    :data:`MIN_SECRET_LEN` or not a string)."""
    if isinstance(value, str) and len(value.strip()) >= MIN_SECRET_LEN:
        with _LOCK:
            _REGISTERED.add(value.strip())


def _env_secrets(refresh: bool = False) -> frozenset[str]:
    """Values of environment variables whose names look secret: read on first use and again whenever
    :func:`collect_secrets` runs (at the start of every run), not on every redaction — reading the whole
    environment per log line and per run-log record would cost more than the rest of the redaction."""
    global _ENV_CACHE
    with _LOCK:
        if _ENV_CACHE[0] and not refresh:
            return _ENV_CACHE[1]
    found = frozenset(v.strip() for k, v in os.environ.items() if is_secret_key(k) and len(v.strip()) >= MIN_SECRET_LEN)
    with _LOCK:
        _ENV_CACHE = (1, found)
    return found


def known_secrets() -> list[str]:
    """Every known secret value, longest first (so a key containing another is masked whole)."""
    with _LOCK:
        reg = set(_REGISTERED)
    return sorted(reg | _env_secrets(), key=len, reverse=True)


def collect_secrets(tree: Any) -> list[str]:
    """Find and :func:`register_secret` every secret in a config tree: values under secret-looking keys,
    passwords in URL userinfo, secret query-parameter values, ``*_env`` values that are not variable names,
    and the values of the variables that ``*_env`` keys name. Returns what was found."""
    found: list[str] = []
    _env_secrets(refresh=True)
    _walk_secrets(tree, None, found)
    for s in found:
        register_secret(s)
    return [s for s in found if isinstance(s, str) and len(s.strip()) >= MIN_SECRET_LEN]


def _walk_secrets(v: Any, key: str | None, found: list[str]) -> None:
    """Append to ``found`` the secrets in ``v``, the value under ``key`` (None at the root) of a config tree."""
    if isinstance(v, Mapping):
        for k, x in v.items():
            _walk_secrets(x, str(k), found)
    elif isinstance(v, (list, tuple)):
        for x in v:
            _walk_secrets(x, key, found)
    elif isinstance(v, str):
        found.extend(_secrets_in_string(v, key))
    if key is not None and is_secret_key(key):
        found.extend(_leaf_strings(v))


def _secrets_in_string(v: str, key: str | None) -> list[str]:
    """A ``*_env`` key's secret (the variable's value, or ``v`` itself when it is not a variable name — a key
    pasted where its name belongs); else the credentials written into ``v`` (:func:`_secrets_in_text`)."""
    if key is not None and key_words(key)[-1:] == ("env",):
        return [os.environ.get(v, "") if looks_like_env_name(v) else v]
    return _secrets_in_text(v)


def _leaf_strings(v: Any) -> Iterable[str]:
    """Every scalar under ``v`` (a config value, dict or list) as a string; None and booleans skipped."""
    if isinstance(v, Mapping):
        for x in v.values():
            yield from _leaf_strings(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _leaf_strings(x)
    elif v is not None and not isinstance(v, bool):
        yield str(v)


def _secrets_in_text(text: str) -> list[str]:
    out: list[str] = []
    for m in _URL_USERINFO.finditer(text):
        userinfo = unquote(m.group("userinfo"))
        # the password, and the Basic credential an HTTP client derives from the userinfo (a server echoing
        # its Authorization header would otherwise print it base64-encoded)
        out += [userinfo.split(":", 1)[-1], base64.b64encode(userinfo.encode()).decode()]
    out += [m.group("value") for m in _QUERY_PARAM.finditer(text) if is_secret_key(m.group("name"))]
    return out


# --------------------------------------------------------------------------------------------------
# Redacting
# --------------------------------------------------------------------------------------------------


#: Words too common in prose to mark a ``name: value`` assignment in free text as secret on their own
#: (``Answer key: B``, ``token: 5``); as query parameters and config keys they still are.
_PROSE_WORDS = frozenset({"key", "token", "auth", "sig", "signature", "session", "cookie", "sas"})


def _masked_value(name: str, value: str) -> bool:
    """Whether the ``value`` assigned to ``name`` in free text is masked (see :data:`_PROSE_WORDS`)."""
    words = key_words(name)
    bare = value.strip("\"'")
    if words[-1:] == ("env",):
        return not looks_like_env_name(bare)  # a key pasted where a variable name belongs
    if not is_secret_key(name) or (len(words) == 1 and words[0] in _PROSE_WORDS):
        return False
    return bare not in ("", MASK, "null", "None", "Bearer", "Basic", "Token")


_SEPARATOR = re.compile(r"[:=]")
#: A name read backwards from just before a separator: optional spaces, an optional closing quote, then the
#: name's characters (reversed); ``_NAME_MAX`` bounds the look-back.
_NAME_MAX = 96
_NAME_REVERSED = re.compile(r"\s*[\"']?(?P<name>[A-Za-z0-9_.\-]{1,%s})" % _NAME_MAX)  # noqa: UP031 (braces)
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\-]")
_VALUE_AFTER = re.compile(r"\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;{}\[\]()&\"':=]+)")


def _redact_assignments(text: str) -> str:
    """Mask the value of every ``name: value`` / ``name=value`` whose name is secret (:func:`_masked_value`).

    Driven by the separators rather than by one regex tried from every position (≈40 ms per 100 kB of raw
    output, and quadratic on some texts): each ``:``/``=`` is looked at once, its name read backwards (a
    match on the reversed text) and its value forwards.
    """
    rev = ""
    out: list[str] = []
    done = 0
    n = len(text)
    for sep in _SEPARATOR.finditer(text):
        pos = sep.start()
        if pos < done or pos == 0:
            continue
        rev = rev or text[::-1]
        nm = _NAME_REVERSED.match(rev, n - pos)
        if nm is None:
            continue
        name = nm.group("name")[::-1]
        before = n - nm.end()  # index in ``text`` where the name starts
        if not (name[0].isalpha() or name[0] == "_") or before < done or (
                before > 0 and _NAME_CHAR.match(text[before - 1])):
            continue
        val = _VALUE_AFTER.match(text, pos + 1)
        if val is None or not _masked_value(name, val.group("value")):
            continue
        value = val.group("value")
        quote = value[0] if value[0] in "\"'" else ""
        out += [text[done:val.start("value")], quote, MASK, quote]
        done = val.end("value")
    return "".join(out) + text[done:] if out else text


#: A secret name contains one of its secret words (:data:`SECRET_WORDS`, :data:`_SECRET_JOINED`, or ``env`` of
#: ``*_env``), in some case: prose and JSON verdicts without any skip the separator walk. Built from those lists,
#: so a word added there is never skipped here. (Substring tests on the lowered text: a case-insensitive regex
#: alternation is tried at every position, ≈100× slower on 2 kB.)
_ALL_HINTS = SECRET_WORDS | set(_SECRET_JOINED) | {"env"}
#: (a word containing another, e.g. "apikey" with "key", is found by the shorter one: not tested twice)
_NAME_HINTS = tuple(sorted(w for w in _ALL_HINTS if not any(o != w and o in w for o in _ALL_HINTS)))


def _may_name_secret(text: str) -> bool:
    low = text.lower()
    return any(h in low for h in _NAME_HINTS)
#: What the auth-scheme and key-shape substitutions need to be worth running (one C-level search each).
_AUTH_HINT = re.compile(r"Bearer|Basic|Token")
_SHAPE_HINT = re.compile(r"sk-|hf_|AIza|gh[pousr]_|xox[abprs]-|AKIA|github_pat_|glpat-|r8_|gsk_|xai-|pplx-|nvapi-|eyJ")


def redact_text(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every known secret value and every credential shape (see the module docstring) masked.

    ``secrets``: the known values (default :func:`known_secrets`; callers redacting many strings pass it once).
    Each shape's substitution runs only when a substring it needs is present (a ``str`` search, far cheaper
    than a regex tried at every position): most strings of a run-log record (hashes, paths, names) skip all.
    """
    if not text:
        return text
    for s in known_secrets() if secrets is None else secrets:
        if s in text:
            text = text.replace(s, MASK)
    if "://" in text and "@" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    if "=" in text:
        text = _QUERY_PARAM.sub(lambda m: f"{m.group('lead')}{MASK}" if is_secret_key(m.group("name"))
                                else m.group(0), text)
    if _AUTH_HINT.search(text):
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    if (":" in text or "=" in text) and _may_name_secret(text):
        text = _redact_assignments(text)
    if _SHAPE_HINT.search(text):
        text = _KEY_SHAPES.sub(MASK, text)
    return text


def redact_values(obj: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like record with every string passed through :func:`redact_text`; keys are kept as
    they are (a run-log record's ``key`` is a unit id, its ``usage`` holds ``*_tokens`` counts)."""
    return _walk_values(obj, known_secrets() if secrets is None else secrets)


_SCALARS = (int, float, bool, type(None))


def _walk_values(obj: Any, secrets: list[str]) -> Any:
    t = type(obj)  # exact types first: a run-log record is plain dicts, lists and scalars (ABC checks are slow)
    if t is str:
        return redact_text(obj, secrets)
    if t is dict:
        return {k: _walk_values(v, secrets) for k, v in obj.items()}
    if t is list or t is tuple:
        return [_walk_values(v, secrets) for v in obj]
    if t in _SCALARS:
        return obj
    if isinstance(obj, str):
        return redact_text(obj, secrets)
    if isinstance(obj, Mapping):
        return {k: _walk_values(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_walk_values(v, secrets) for v in obj]
    return obj


def redact_config(obj: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a config tree (or override list) for writing: values under secret-looking keys become
    :data:`MASK`, a ``*_env`` value that is not a variable name too, and every string is :func:`redact_text`-ed.
    """
    secrets = known_secrets() if secrets is None else secrets
    if isinstance(obj, Mapping):
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            words = key_words(str(k))
            if is_secret_key(str(k)) and v not in (None, "", {}, []):
                out[k] = MASK
            elif words[-1:] == ("env",) and isinstance(v, str) and not looks_like_env_name(v):
                out[k] = MASK
            else:
                out[k] = redact_config(v, secrets)
        return out
    if isinstance(obj, (list, tuple)):
        return [redact_config(v, secrets) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj, secrets)
    return obj


def redact_yaml_file(path: Path) -> bool:
    """Rewrite a YAML file (Hydra's ``multirun.yaml``, ``.hydra/*.yaml``) with :func:`redact_config`
    applied, atomically; returns whether anything changed. A file that is not valid YAML is redacted as text.
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return False
    try:
        data = yaml.safe_load(text)
        new = yaml.safe_dump(redact_config(data), sort_keys=False, allow_unicode=True)
        if redact_config(data) == data:
            return False
    except yaml.YAMLError:
        new = redact_text(text)
        if new == text:
            return False
    tmp = path.with_name(path.name + ".redacting")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return True


# --------------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """A logging filter (for handlers) that redacts each record's message and traceback before it is
    formatted: a handler filter sees every record it emits, whichever logger it came from."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except (TypeError, ValueError):  # a bad %-format: keep the record as logging would report it
            return True
        red = redact_text(msg)
        if red != msg:
            record.msg, record.args = red, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class RedactingStream:
    """A text stream (``sys.stdout`` / ``sys.stderr``) whose writes pass through :func:`redact_text`: the last
    net under the console, for what reaches it outside the logging handlers (Hydra's own error messages and
    tracebacks, warnings, third-party prints). A secret split across two ``write`` calls is not seen whole;
    everything this project writes goes out a line (or a message) at a time."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer… of the real stream
        return getattr(self._stream, name)


def redact_console() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`RedactingStream` (idempotent); the CLI's entry point
    calls it before Hydra starts, so every handler Hydra binds to them is wrapped too."""
    import sys

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))


#: HTTP client loggers whose INFO lines are one per request (``HTTP Request: POST http://…``): quieted to
#: WARNING unless a level was set for them (they also cost ≈5 % of throughput at high concurrency).
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "urllib3")


def install_log_redaction() -> None:
    """Add a :class:`RedactingFilter` to every handler of the root logger and of the ``judgeanything`` and
    ``hydra`` loggers (idempotent), and quiet the HTTP clients' per-request INFO lines. Call it after logging
    is configured (Hydra configures it per job)."""
    for name in ("", "judgeanything", "hydra"):
        for h in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in h.filters):
                h.addFilter(RedactingFilter())
    for name in HTTP_LOGGERS:
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)


__all__ = [
    "HTTP_LOGGERS",
    "MASK",
    "SECRET_WORDS",
    "RedactingFilter",
    "RedactingStream",
    "collect_secrets",
    "install_log_redaction",
    "is_secret_key",
    "key_words",
    "known_secrets",
    "looks_like_env_name",
    "redact_config",
    "redact_console",
    "redact_text",
    "redact_values",
    "redact_yaml_file",
    "register_secret",
    "shown_env_name",
]
