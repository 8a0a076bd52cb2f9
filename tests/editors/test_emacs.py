"""The Emacs configs in a real Emacs (Debian's emacs-nox with elpa-eglot and elpa-lsp-mode):
the Eglot one, unchanged, starts `lstm-complete serve --stdio` from PATH for a Python file and
completion-at-point offers the model's continuation; the lsp-mode one registers an add-on
client for Python. tests/editors/emacs_harness.el does the Emacs side."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODULE, write_corpus
from tests.editors import apt
from tests.editors.process import run_captured
from trainer.paths import default_model_dir

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "editors"
HARNESS = Path(__file__).resolve().with_name("emacs_harness.el")
KILO = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo")


@pytest.fixture(scope="module")
def emacs() -> str:
    return apt.ensure("emacs", ["emacs-nox", "elpa-eglot", "elpa-lsp-mode"])


def run_emacs(emacs: str, tmp_path: Path, env: dict[str, str], **harness: str) -> dict[str, Any]:
    out = tmp_path / "results.json"
    # JSON strings are valid Emacs Lisp strings for these values (paths and plain words).
    setq = " ".join(
        f"harness-{key} {value if key == 'mode' else json.dumps(value)}"
        for key, value in {**harness, "out": str(out)}.items()
    )
    done = run_captured(
        [emacs, "--batch", "--eval", f"(setq {setq})", "-l", HARNESS],
        cwd=tmp_path,
        env=env,
        timeout=120,
        name="Emacs",
    )
    if not out.exists():
        pytest.fail(f"Emacs wrote no results (exit status {done.returncode}):\n{done.stdout}")
    results = json.loads(out.read_text())
    if "error" in results:
        pytest.fail(f"the Emacs run failed: {results['error']}\n{done.stdout}")
    return results


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """This venv's `lstm-complete` first on PATH; Emacs's and the server's files in tmp_path."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "lstm-complete").exists(), f"no lstm-complete script next to {sys.executable}"
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


def test_eglot_config_completes_python(
    emacs: str, tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = isolated_env(tmp_path)
    workspace = write_corpus(tmp_path / "workspace")
    (workspace / "kilo.py").write_text(KILO)
    # The config sets no model, so the server serves the workspace's own, from where
    # `lstm-complete train` puts it (under XDG_CACHE_HOME, here in tmp_path).
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    model = default_model_dir(workspace)
    shutil.copytree(tiny_model, model)

    results = run_emacs(
        emacs,
        tmp_path,
        env,
        mode="'eglot",
        config=str(EXAMPLES / "emacs-eglot.el"),
        file=str(workspace / "kilo.py"),
        marker="self.items.app",
    )
    assert results["mode"] == "python-mode"
    assert results["server"] == "lstm-complete"
    assert results["model"] == str(model)
    assert results["typed"] == "app"
    assert results["candidates"][0] == "append(item)", results["candidates"]


def test_lsp_mode_config_registers_an_add_on_client(emacs: str, tmp_path: Path) -> None:
    results = run_emacs(
        emacs,
        tmp_path,
        isolated_env(tmp_path),
        mode="'lsp-mode",
        config=str(EXAMPLES / "emacs-lsp-mode.el"),
    )
    assert results == {
        "add-on": True,
        "priority": -1,
        "python": True,
        "text": False,
        "options": {"numSuggestions": 5},
    }
