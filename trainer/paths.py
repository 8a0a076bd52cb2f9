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
    absolute = Path(workspace).absolute()
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:12]
    return models_home() / f"{absolute.name or 'root'}-{digest}"
