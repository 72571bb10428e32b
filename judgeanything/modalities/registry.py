"""Modality name → encoder factory, with default options from YAML.

Core encoders (``text``, ``image``, ``audio``, ``video``) are registered here; their default options are
``judgeanything/conf/modality/<name>.yaml`` (shipped as package data).

Third-party modalities need no edit of this package. A plugin distribution declares an entry point in
the group ``judgeanything.modalities`` whose *name* is the modality and whose *value* is a factory (a
class or function taking the options as keyword arguments and returning a
:class:`~judgeanything.modalities.base.ModalityEncoder`)::

    [project.entry-points."judgeanything.modalities"]
    document = "judgeanything_document.encoder:DocumentEncoder"

and ships its defaults as ``conf/modality/<name>.yaml`` inside the top-level package of the entry
point's module (``judgeanything_document/conf/modality/document.yaml``), found with
``importlib.resources`` — so it works from a wheel, an editable install or a zip. Plugins' encoders
return one of the core ``Encoded*`` types (a document becomes an :class:`EncodedImage`).

Entry points are read once, on first use; :func:`discover_plugins` (``refresh=True``) reads them again
after a distribution was installed in a running process. A plugin cannot shadow a core modality, and a
plugin that fails to import only makes its own modality unavailable (the reason is kept and shown).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from judgeanything.modalities.base import ModalityEncoder
from judgeanything.modalities.limits import MediaLimits

EncoderFactory = Callable[..., ModalityEncoder]

ENTRY_POINT_GROUP = "judgeanything.modalities"

_CORE: dict[str, str] = {
    "text": "judgeanything.modalities.text:TextEncoder",
    "image": "judgeanything.modalities.image:ImageEncoder",
    "audio": "judgeanything.modalities.audio:AudioEncoder",
    "video": "judgeanything.modalities.video:VideoEncoder",
}


class UnknownModalityError(LookupError):
    """No encoder is registered (or loadable) under this modality name."""


class _Entry:
    __slots__ = ("defaults", "factory", "origin", "package", "target")

    def __init__(self, origin: str, *, factory: EncoderFactory | None = None, target: str | None = None,
                 package: str | None = None, defaults: Mapping[str, Any] | None = None) -> None:
        self.origin = origin          # "core", "entry point <dist>", "register_encoder"
        self.factory = factory        # loaded lazily from target when None
        self.target = target          # "module:attr"
        self.package = package        # where conf/modality/<name>.yaml lives
        self.defaults = dict(defaults) if defaults is not None else None


_LOCK = threading.RLock()
_ENTRIES: dict[str, _Entry] = {n: _Entry("core", target=t, package="judgeanything") for n, t in _CORE.items()}
_PLUGIN_ERRORS: dict[str, str] = {}
_DISCOVERED = False


def register_encoder(name: str, factory: EncoderFactory, *, defaults: Mapping[str, Any] | None = None,
                     replace: bool = False) -> None:
    """Register ``factory`` for modality ``name`` in this process.

    Args:
        name: the modality name (as in ``MediaRef.modality``).
        factory: called with the options as keyword arguments; returns a ``ModalityEncoder``.
        defaults: default options (None: no defaults, unless a plugin YAML is found later).
        replace: allow replacing an existing registration (never needed for plugins).

    Raises:
        ValueError: the name is empty or already registered and ``replace`` is False.
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"modality name must be a non-empty string, got {name!r}")
    with _LOCK:
        if name in _ENTRIES and not replace:
            raise ValueError(f"modality {name!r} is already registered ({_ENTRIES[name].origin}); "
                             f"pass replace=True to override it")
        _ENTRIES[name] = _Entry("register_encoder", factory=factory, defaults=defaults or {})


def unregister_encoder(name: str) -> None:
    """Remove a registration made with :func:`register_encoder` or from an entry point.

    Raises:
        ValueError: ``name`` is a core modality.
        UnknownModalityError: nothing is registered under ``name``.
    """
    with _LOCK:
        if name in _CORE:
            raise ValueError(f"core modality {name!r} cannot be unregistered")
        if name not in _ENTRIES:
            raise UnknownModalityError(f"no encoder registered for modality {name!r}")
        del _ENTRIES[name]


def discover_plugins(refresh: bool = False) -> dict[str, str]:
    """Read the ``judgeanything.modalities`` entry points (once, or again with ``refresh``).

    Returns:
        modality name → entry point value for every plugin registration now known.
    """
    global _DISCOVERED
    with _LOCK:
        if _DISCOVERED and not refresh:
            return {n: e.target or "" for n, e in _ENTRIES.items() if e.origin.startswith("entry point")}
        if refresh:
            for n in [n for n, e in _ENTRIES.items() if e.origin.startswith("entry point")]:
                del _ENTRIES[n]
            _PLUGIN_ERRORS.clear()
            importlib.invalidate_caches()
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "?"
            if ep.name in _ENTRIES:
                if _ENTRIES[ep.name].target != ep.value:
                    owner = _ENTRIES[ep.name].origin
                    _PLUGIN_ERRORS[ep.name] = (f"entry point {ep.value!r} of {dist} ignored: modality "
                                               f"{ep.name!r} is already provided ({owner})")
                continue
            _ENTRIES[ep.name] = _Entry(f"entry point of {dist}", target=ep.value,
                                       package=ep.module.split(".")[0])
        _DISCOVERED = True
        return {n: e.target or "" for n, e in _ENTRIES.items() if e.origin.startswith("entry point")}


def available_modalities() -> list[str]:
    """Every modality with an encoder: the core four plus registered and entry-point plugins (sorted)."""
    discover_plugins()
    with _LOCK:
        return sorted(_ENTRIES)


def plugin_errors() -> dict[str, str]:
    """Plugins that could not be loaded or were ignored: modality name → reason."""
    discover_plugins()
    with _LOCK:
        return dict(_PLUGIN_ERRORS)


def _load_target(name: str, entry: _Entry) -> EncoderFactory:
    if entry.factory is not None:
        return entry.factory
    assert entry.target is not None
    module, _, attr = entry.target.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        _PLUGIN_ERRORS[name] = f"cannot load {entry.target!r} ({entry.origin}): {type(e).__name__}: {e}"
        raise UnknownModalityError(f"the encoder of modality {name!r} cannot be loaded: "
                                   f"{_PLUGIN_ERRORS[name]}") from e
    if not callable(obj):
        raise UnknownModalityError(f"{entry.target!r} ({entry.origin}) is not callable")
    entry.factory = obj
    return obj


def default_options(name: str) -> dict[str, Any]:
    """The default options of modality ``name``: its ``conf/modality/<name>.yaml`` (core or plugin
    package), or the defaults given to :func:`register_encoder`; ``{}`` when there are none.

    Raises:
        UnknownModalityError: no such modality.
        ValueError: the YAML file is not a mapping.
    """
    entry = _entry(name)
    if entry.defaults is not None:
        return dict(entry.defaults)
    loaded: dict[str, Any] = {}
    if entry.package is not None:
        try:
            res = importlib.resources.files(entry.package).joinpath("conf", "modality", f"{name}.yaml")
            text = res.read_text(encoding="utf-8") if res.is_file() else None
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            text = None
        if text is not None:
            data = yaml.safe_load(text)
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise ValueError(f"{entry.package}/conf/modality/{name}.yaml must be a mapping of options, "
                                 f"got {type(data).__name__}")
            loaded = data
    with _LOCK:
        entry.defaults = loaded
    return dict(loaded)


def _entry(name: str) -> _Entry:
    discover_plugins()
    with _LOCK:
        entry = _ENTRIES.get(name)
        if entry is None:
            known = ", ".join(sorted(_ENTRIES))
            hint = f"; plugin problems: {_PLUGIN_ERRORS[name]}" if name in _PLUGIN_ERRORS else ""
            raise UnknownModalityError(f"no encoder for modality {name!r} (available: {known}). A new "
                                       f"modality is a plugin: an entry point in the group "
                                       f"{ENTRY_POINT_GROUP!r}{hint}")
        return entry


def get_encoder(name: str, *, media_limits: MediaLimits | None = None, **options: Any) -> ModalityEncoder:
    """Build the encoder of modality ``name`` with its default options overlaid by ``options``.

    ``media_limits`` (``media.limits``) is handed to encoders whose factory takes a ``limits`` argument (every
    core encoder); a plugin that does not take it still has its file sizes checked by
    :class:`~judgeanything.modalities.cache.MediaCache` before it runs.

    Raises:
        UnknownModalityError: no such modality, or its plugin cannot be imported.
        ValueError: an option the encoder does not take, or a bad option value.
        TypeError: the factory did not return a ``ModalityEncoder``.
    """
    if "limits" in options:
        raise ValueError(f"media.{name}.limits: media limits are one section for every modality: "
                         f"set media.limits.* instead")
    entry = _entry(name)
    factory = _load_target(name, entry)
    merged = {**default_options(name), **options}
    _check_options(name, factory, merged)
    if media_limits is not None and _accepts(factory, "limits"):
        merged["limits"] = media_limits
    encoder = factory(**merged)
    if not isinstance(encoder, ModalityEncoder):
        raise TypeError(f"the factory of modality {name!r} returned {type(encoder).__name__}, which lacks "
                        f"name/encode/measure")
    return encoder


def _accepts(factory: EncoderFactory, arg: str) -> bool:
    """Whether ``factory`` names a keyword argument ``arg`` (``**kwargs`` does not count: such a plugin
    may forward its options somewhere that does not expect ours)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == arg and p.kind is not inspect.Parameter.POSITIONAL_ONLY for p in params)


def _check_options(name: str, factory: EncoderFactory, options: Mapping[str, Any]) -> None:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins / C callables: let the call itself complain
        return
    params = sig.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                     inspect.Parameter.POSITIONAL_OR_KEYWORD)}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for modality {name!r}; it accepts: "
                         f"{', '.join(sorted(accepted)) or '(none)'}")
