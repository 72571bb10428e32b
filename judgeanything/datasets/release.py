"""Where a published release lives: a local folder that mirrors it, or a snapshot of its Hugging Face Hub
dataset repository in the HF cache.

``root`` is either a folder (``/data/JudgeAnything``) or ``hf://<owner>/<name>[@<revision>]``. A Hub root
is fetched with :func:`huggingface_hub.snapshot_download` (``repo_type="dataset"``) restricted to the
``allow_patterns`` the chosen task types need: the download goes to the HF cache (``HF_HUB_CACHE``),
resumes where an interrupted one stopped and is reused by later runs. With downloads off
(``HF_HUB_OFFLINE=1``) a snapshot already in the cache is used; a missing one is ONE
:class:`ReleaseNotFound` saying what to download where.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from judgeanything.datasets._io import PathLike

HUB_SCHEME = "hf://"


class ReleaseNotFound(FileNotFoundError):
    """A release (or a file of it) is neither in the given folder nor in the HF cache; the message says
    what to download and where to put it."""


def is_hub(root: PathLike | None) -> bool:
    """Whether ``root`` names a Hub dataset (``hf://owner/name[@revision]``)."""
    return root is not None and os.fspath(root).startswith(HUB_SCHEME)


def _split_hub(root: str) -> tuple[str, str | None]:
    spec = root[len(HUB_SCHEME):].strip("/")
    repo, _, rev = spec.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"root {root!r}: expected hf://<owner>/<name>[@<revision>]")
    return repo, rev or None


def resolve_root(root: PathLike, allow_patterns: Sequence[str], *, what: str) -> Path:
    """The local folder of a release.

    Args:
        root: a folder, or ``hf://owner/name[@revision]`` (a Hub dataset repository).
        allow_patterns: the files needed (glob patterns relative to the repository root), so only they
            are downloaded.
        what: the release's name for messages (``"Judge Anything"``).

    Returns:
        The folder (for a Hub root: the snapshot folder in the HF cache).

    Raises:
        ReleaseNotFound: a local folder that does not exist; a Hub snapshot that is not cached while
            downloads are off, or that cannot be downloaded (no network, unknown repository).
        ValueError: a malformed ``hf://`` root.
    """
    text = os.fspath(root)
    if not is_hub(text):
        p = Path(os.path.expanduser(text))
        if not p.is_dir():
            raise ReleaseNotFound(f"{what}: root folder {text} does not exist; put the release there "
                                  f"or use root=hf://<owner>/<name> to fetch it from the Hugging Face Hub")
        return p
    repo, rev = _split_hub(text)
    # Imported here: huggingface_hub is only needed for Hub roots.
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(repo, repo_type="dataset", revision=rev,
                                      allow_patterns=list(allow_patterns)))
    except GatedRepoError as e:
        raise ReleaseNotFound(f"{what}: the Hub dataset {repo} is gated: accept its terms on "
                              f"https://huggingface.co/datasets/{repo} and log in (hf auth login)") from e
    except (RepositoryNotFoundError, RevisionNotFoundError) as e:
        raise ReleaseNotFound(f"{what}: the Hub has no dataset {repo}" + (f" at revision {rev}" if rev else "")
                              + " (or it is private: log in with hf auth login)") from e
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as e:
        raise ReleaseNotFound(_download_hint(repo, rev, allow_patterns, what, e)) from e


def _download_hint(repo: str, rev: str | None, patterns: Sequence[str], what: str, err: Exception) -> str:
    from huggingface_hub import constants

    include = " ".join(f"--include {_quote(p)}" for p in patterns)
    offline = " (downloads are off: HF_HUB_OFFLINE=1)" if constants.HF_HUB_OFFLINE else ""
    revision = f" --revision {rev}" if rev else ""
    return (f"{what}: the Hub dataset {repo} is not in the Hugging Face cache {constants.HF_HUB_CACHE}"
            f"{offline}. On a machine with network run\n"
            f"  hf download {repo} --repo-type dataset{revision} {include}\n"
            f"(it fills that cache; copy it here or set HF_HUB_CACHE), or download the release into a folder "
            f"and set benchmark.root=<folder>."
            + ("" if offline else f" ({type(err).__name__}: {str(err).splitlines()[0][:200]})"))


def _quote(p: str) -> str:
    return f"'{p}'" if any(c in p for c in " *?[&") else p


def require_file(root: Path, rel: str, *, what: str, key: str) -> Path:
    """``root / rel``, which must exist.

    Raises:
        ReleaseNotFound: naming the missing file, the folder and the config key that overrides it.
    """
    p = root / rel
    if not p.is_file():
        raise ReleaseNotFound(f"{what}: {rel} is missing under {root} (a partial download? fetch it again, "
                              f"or set benchmark.{key}=<path>)")
    return p


def expand_files(spec: PathLike | Sequence[PathLike] | None, *, base: Path | None = None,
                 what: str) -> list[Path]:
    """One file, a list of files, or glob patterns → the files, in the order given (each glob's matches
    sorted). Relative paths are taken under ``base`` when given.

    Raises:
        ReleaseNotFound: a glob matching no file (a plain path is checked by its reader, which names it).
    """
    if spec is None:
        return []
    specs = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    out: list[Path] = []
    for s in specs:
        text = os.path.expanduser(os.fspath(s))
        if base is not None and not os.path.isabs(text):
            text = os.fspath(base / text)
        if glob.has_magic(text):
            hits = sorted(glob.glob(text))
            if not hits:
                raise ReleaseNotFound(f"{what}: the pattern {os.fspath(s)!r} matches no file")
            out.extend(Path(h) for h in hits)
        else:
            out.append(Path(text))
    return out
