"""Neovim as a real LSP client: Debian's headless `nvim` (0.7.2 on these machines) runs the
documented config (examples/editors/neovim-0.7.lua), which starts `lstm-complete serve --stdio`
from PATH on a workspace with a tiny trained model; tests/editors/neovim_harness.lua asks
through Neovim's own client and writes the answers as JSON for the checks here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODULE, write_corpus
from tests.editors import apt
from tests.editors.process import run_captured
from tests.server.test_lsp import cut_after

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "examples" / "editors" / "neovim-0.7.lua"
HARNESS = Path(__file__).resolve().with_name("neovim_harness.lua")
KILO = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo")
MARKER = "self.items.app"  # the model learned `self.items.append(item)` from the corpus
TYPED = "items.app"  # typed a key at a time after `self.`, one completion request per key
REQUEST_CANCELLED = -32800  # LSP's error code for a request the server dropped


@pytest.fixture(scope="module")
def nvim() -> str:
    path = apt.ensure("nvim", ["neovim"])
    first = subprocess.run(
        [path, "--version"], stdout=subprocess.PIPE, text=True
    ).stdout.splitlines()[0]
    version = tuple(int(n) for n in re.findall(r"\d+", first)[:2])
    if version < (0, 7):
        pytest.fail(f"the config under test needs Neovim 0.7 or newer; this is {first}")
    return path


def run_neovim(nvim: str, tmp_path: Path, model: Path) -> dict[str, Any]:
    workspace = write_corpus(tmp_path / "workspace")
    # On disk the whole module, as last saved: the workspace index (the match model) reads it.
    (workspace / "kilo.py").write_text(KILO)
    _, line, col = cut_after(KILO, MARKER)
    out = tmp_path / "results.json"
    params = {
        # The documented command with one flag: without the state cache every request re-reads
        # the text before the cursor (~0.1 s here), so each keystroke's request is still running
        # when the next arrives, as with a slow machine or a big model. With the cache, a
        # request can finish in the gap between two keystrokes, and whether it is superseded
        # would depend on timing.
        "cmd": ["lstm-complete", "serve", "--stdio", "--no-state-cache"],
        "settings": {"modelPath": str(model), "learningEnabled": False},
        "position": {"line": line, "character": col},
        "typed": TYPED,
        "out": str(out),
    }
    # Lua long brackets keep the JSON verbatim, whatever quotes it holds.
    init = tmp_path / "init.lua"
    init.write_text(
        f"local params = vim.fn.json_decode([==[{json.dumps(params)}]==])\n"
        f"dofile([==[{HARNESS}]==])(params)\n"
        f"dofile([==[{CONFIG}]==]).setup({{ cmd = params.cmd, settings = params.settings }})\n"
    )
    bin_dir = Path(sys.executable).parent  # the documented command, `lstm-complete`, from this venv
    assert (bin_dir / "lstm-complete").exists(), f"no lstm-complete script next to {sys.executable}"
    state = tmp_path / "xdg"  # Neovim's log and state stay in the test's folder
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CACHE_HOME": str(state / "cache"),
        "XDG_STATE_HOME": str(state / "state"),
        "XDG_DATA_HOME": str(state / "data"),
    }
    done = run_captured(
        [nvim, "--headless", "--clean", "-u", init, "kilo.py"],
        cwd=workspace,
        env=env,
        timeout=180,
        name="Neovim",
        more=lambda: f"\n{lsp_log(state)}",
    )
    if not out.exists():
        pytest.fail(
            f"Neovim wrote no results (exit status {done.returncode}):\n"
            f"{done.stdout}\n{lsp_log(state)}"
        )
    results = json.loads(out.read_text())
    if "error" in results or done.returncode != 0:
        pytest.fail(
            f"the Neovim run failed (exit status {done.returncode}): {results.get('error')}\n"
            f"{done.stdout}\n{lsp_log(state)}"
        )
    return results


def lsp_log(state: Path) -> str:
    """Neovim's LSP log, which holds what the server wrote to stderr."""
    logs = list(state.glob("**/lsp.log"))
    return logs[0].read_text()[-6000:] if logs else "(no LSP log)"


def new_texts(answer: dict[str, Any]) -> list[str]:
    return [item["textEdit"]["newText"] for item in answer["result"]["items"]]


def test_neovim_gets_completions_and_inline_completions(
    nvim: str, tmp_path: Path, tiny_model: Path
) -> None:
    started = time.monotonic()
    results = run_neovim(nvim, tmp_path, tiny_model)
    print(f"Neovim run: {time.monotonic() - started:.1f} s")

    assert results["filetype"] == "python"
    assert results["status"]["model"]["path"] == str(tiny_model)
    kinds = [p["kind"] for p in results["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end", results["progress"]
    assert results["progress"][0]["title"].startswith("lstm-complete")

    completion = results["completion"]
    assert completion["err"] is None
    assert completion["result"]["isIncomplete"] is True
    texts = new_texts(completion)
    assert texts[0] == "append(item)", texts
    text, line, col = cut_after(KILO, MARKER)
    for item in completion["result"]["items"]:
        edit_range = item["textEdit"]["range"]
        assert edit_range["start"] == {"line": line, "character": col - len("app")}
        assert edit_range["end"] == {"line": line, "character": col}

    inline = results["inline"]
    assert inline["err"] is None
    assert [item["insertText"] for item in inline["result"]["items"]] == ["end(item)"]

    # Typing `items.app` a key at a time sent one request per key without waiting: the newest is
    # answered in full, and requests it superseded while they waited or ran got null or a
    # cancelled error (one that finished before the next keystroke arrived is answered in full:
    # that is timing, so the check is that superseding happened, not that it always could).
    *superseded, newest = results["burst"]
    assert len(superseded) == len(TYPED) - 1
    dropped = 0
    for i, answer in enumerate(superseded):
        if answer["err"] is not None:
            assert answer["err"]["code"] == REQUEST_CANCELLED, (i, answer)
            dropped += 1
        else:
            dropped += answer["result"] is None
    assert dropped >= len(superseded) // 2, results["burst"]
    assert newest["err"] is None
    assert new_texts(newest)[0] == "append(item)"
    assert results["line"] == text.splitlines()[line]  # the keystrokes rebuilt the line

    # Stopping the client (as quitting Neovim does) shuts the server down: its process is gone.
    pid = results["pid"]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), f"the server (pid {pid}) outlived Neovim"


def test_every_neovim_example_parses(nvim: str) -> None:
    """The 0.10 config cannot run on this Neovim, but its Lua must at least be valid."""
    configs = sorted((REPO / "examples" / "editors").glob("*.lua"))
    assert len(configs) >= 2
    for config in configs:
        check = f"lua assert(loadfile([==[{config}]==]))"
        done = run_captured(
            [nvim, "--headless", "--clean", "-c", check, "-c", "qall!"],
            cwd=REPO,
            env=None,
            timeout=30,
            name=f"Neovim loading {config.name}",
        )
        assert done.returncode == 0 and not done.stdout.strip(), f"{config.name}: {done.stdout}"
