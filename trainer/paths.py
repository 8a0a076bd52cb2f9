"""Where models live: the one place that decides a workspace's default model folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import platformdirs

BASE_MODEL = Path(__file__).parent / "base"


def models_home() -> Path:
    return platformdirs.user_cache_path("lstm-complete") / "models"


def default_model_dir(workspace: Path) -> Path:
    """The folder `lstm-complete train PATH` writes to and the language server looks in."""
    return models_home() / _folder_name(workspace)


def default_index_dir(workspace: Path) -> Path:
    """Where the language server keeps the match index of a workspace's files: beside its model
    folder, not in it (training replaces a model folder whole)."""
    return platformdirs.user_cache_path("lstm-complete") / "indexes" / _folder_name(workspace)


def _folder_name(workspace: Path) -> str:
    absolute = Path(workspace).absolute()
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:12]
    return f"{absolute.name or 'root'}-{digest}"
