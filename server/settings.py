"""The server's settings: typed, validated, and the one source the editor clients mirror.

Clients send them as `initializationOptions` and in `workspace/didChangeConfiguration`, either
flat or under the section "lstmComplete". A bad value is reported and replaced by its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

import pathspec

SECTION = "lstmComplete"


@dataclass(frozen=True)
class Settings:
    modelPath: str | None = None  # a model folder; default: the workspace's, else the base model
    device: str = "auto"  # auto | cpu | cuda
    temperature: float = 0.0  # >0 samples the model's own list items (after the found lines)
    numSuggestions: int = 5  # completion-list items
    maxLength: int = 80  # characters in one suggestion
    inlineEnabled: bool = True
    listEnabled: bool = True
    exclude: list[str] = field(default_factory=list)  # gitignore-style patterns: no suggestions
    learningEnabled: bool = True  # retrain on file changes


_CHOICES = {"device": ("auto", "cpu", "cuda")}
_RANGES = {"temperature": (0.0, 2.0), "numSuggestions": (1, 20), "maxLength": (1, 400)}


def parse(raw: Any, current: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a client's JSON (unknown keys ignored), and one message per bad value."""
    base = current or Settings()
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [
            f"settings must be an object, not {type(raw).__name__}; keeping the current ones"
        ]
    values: dict[str, Any] = {}
    problems: list[str] = []
    defaults = Settings()
    for f in fields(Settings):
        if f.name not in raw:
            values[f.name] = getattr(base, f.name)
            continue
        value, problem = _check(f.name, raw[f.name])
        if problem:
            problems.append(f"{SECTION}.{f.name}: {problem}; using {getattr(defaults, f.name)!r}")
            value = getattr(defaults, f.name)
        values[f.name] = value
    return Settings(**values), problems


def _check(name: str, value: Any) -> tuple[Any, str | None]:
    if name == "modelPath":
        if value is None or value == "":
            return None, None
        return (value, None) if isinstance(value, str) else (None, "must be a path or null")
    if name in _CHOICES:
        ok = value in _CHOICES[name]
        return value, None if ok else f"must be one of {', '.join(_CHOICES[name])}"
    if name in ("inlineEnabled", "listEnabled", "learningEnabled"):
        return value, None if isinstance(value, bool) else "must be true or false"
    if name == "exclude":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, "must be a list of patterns"
        try:  # compiled here, so that a bad pattern is a bad setting, not an error later
            pathspec.GitIgnoreSpec.from_lines(value)
        except (ValueError, re.error) as err:
            return None, f"not a gitignore pattern ({err})"
        return list(value), None
    low, high = _RANGES[name]
    kind = int if name != "temperature" else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        return value, f"must be a number from {low} to {high}"
    return value, None
