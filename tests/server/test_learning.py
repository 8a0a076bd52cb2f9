"""Learning while the user works, end to end: files change on disk, the server updates the
workspace model in the background and swaps it in, and completions keep coming."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from trainer import checkpoint
from trainer.paths import default_model_dir
from trainer.update import guard_key

from .lsp import complete, inline, open_document, session, status

IDENTIFIER = "frobnicate_widget_total"
NEW_MODULE = textwrap.dedent(
    f"""
    def {IDENTIFIER}(widgets):
        return sum(w.size for w in widgets)


    def report(widgets):
        total = {IDENTIFIER}(widgets)
        print("widgets:", total)
        return total


    def check(widgets):
        total = {IDENTIFIER}(widgets)
        assert total >= 0
        return total
    """
)
# The other document: a line begun as the new module's lines begin, the identifier's first letters
TYPING = "def summary(widgets):\n    total = frob"


@pytest.fixture
def workspace(tmp_path, monkeypatch, tiny_model, corpus_dir) -> Path:
    """A workspace with a model of its own in the default place, trained on what it holds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = shutil.copytree(corpus_dir, tmp_path / "workspace")
    model = shutil.copytree(tiny_model, default_model_dir(root))
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["roots"] = [str(root)]
    (model / "manifest.json").write_text(json.dumps(manifest))
    return root


async def wait_until(client, test, timeout: float = 120) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = await status(client)
        if test(now):
            return now
        if loop.time() > deadline:
            raise AssertionError(f"waited in vain; status: {now}")
        await asyncio.sleep(0.1)


def updated(count: int):
    """The status test: `count` updates done and the model they wrote serving, indexed."""

    def test(now: dict[str, Any]) -> bool:
        return now["updates"] >= count and now["state"] == "ready" and not now["queue"]

    return test


def offered(items: types.CompletionList | None) -> bool:
    return items is not None and any(IDENTIFIER in item.text_edit.new_text for item in items.items)


async def test_a_saved_file_is_learned_and_requests_during_the_swap_succeed(workspace):
    async with session(workspace) as client:
        quiet = await wait_until(client, lambda now: now["indexedChars"] is not None)
        assert quiet["updates"] == 0 and quiet["queue"] == [] and not quiet["model"]["isBase"]
        uri = open_document(client, workspace / "summary.py", TYPING)
        line, col = 1, len(TYPING.split("\n")[1])
        assert not offered(await complete(client, uri, line, col))

        (workspace / "widgets.py").write_text(NEW_MODULE)
        answered = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while True:  # keep asking while the update trains and the new model is swapped in
            listed, ghost = await asyncio.gather(
                complete(client, uri, line, col), inline(client, uri, line, col)
            )
            assert listed is not None and isinstance(ghost, list)
            answered += 1
            now = await status(client)
            if updated(1)(now) and now["indexedChars"] > quiet["indexedChars"]:
                break
            assert loop.time() < deadline, now
        assert answered >= 3
        last = now["lastUpdate"]
        assert last["files"] == ["widgets.py"] and last["accepted"] is True
        assert last["heldOutBpc"] is not None and last["seconds"] > 0
        assert now["model"]["trainedChars"] > quiet["model"]["trainedChars"]
        assert offered(await complete(client, uri, line, col))
        assert client.progress_reports  # the update was shown through $/progress


async def test_a_burst_of_changes_makes_one_update_and_deletions_leave_the_corpus(workspace):
    async with session(workspace) as client:
        await wait_until(client, lambda now: now["indexedChars"] is not None)
        names = [f"burst_{i}.py" for i in range(20)]
        for name in names:
            path = workspace / name
            path.write_text(f"VALUE_{name[6:-3]} = {name!r}\n")
            # The editor says so too: the same change must not be learned twice.
            client.text_document_did_save(
                types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=path.as_uri())
                )
            )
        (workspace / "alpha.py").unlink()
        now = await wait_until(client, updated(1))
        await asyncio.sleep(3)  # time enough for a second update, were one coming
        now = await status(client)
        assert now["updates"] == 1, now
        assert now["lastUpdate"]["files"] == sorted([*names, "alpha.py"])
        manifest = checkpoint.load(default_model_dir(workspace)).manifest
        assert "alpha.py" not in manifest.files and set(names) <= set(manifest.files)


async def test_changes_made_while_the_server_was_down_are_learned_at_start(workspace):
    (workspace / "widgets.py").write_text(NEW_MODULE)
    async with session(workspace) as client:
        now = await wait_until(client, updated(1))
        assert now["lastUpdate"]["files"] == ["widgets.py"]


async def test_pause_resume_and_retrain(workspace):
    async with session(workspace, "--cold-start-minutes", "0.05") as client:
        await wait_until(client, lambda now: now["indexedChars"] is not None)

        async def command(name: str) -> Any:
            return await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=f"lstm-complete.{name}", arguments=[])
            )

        assert (await command("pause"))["learning"] is False
        (workspace / "widgets.py").write_text(NEW_MODULE)
        queued = await wait_until(
            client, lambda now: now["queue"] == [{"path": "widgets.py", "reason": "added"}]
        )
        assert queued["updates"] == 0 and queued["training"] is None and not queued["learning"]

        assert (await command("resume"))["learning"] is True
        await wait_until(client, updated(1))

        before = (await status(client))["model"]["trainedChars"]
        assert (await command("retrain"))["started"] is True
        await wait_until(client, lambda now: now["training"] == "full")
        done = await wait_until(
            client, lambda now: now["state"] == "ready" and now["model"]["trainedChars"] != before
        )
        assert not done["model"]["isBase"] and done["training"] is None


async def test_a_rejected_update_keeps_the_weights_and_is_not_retried(workspace):
    model = default_model_dir(workspace)
    weights = (model / "model.safetensors").read_bytes()
    config = json.loads((model / "config.json").read_text())
    # As if earlier updates had used up the held-out margin: the next one must be rejected.
    held_out = checkpoint.load(model).manifest.held_out
    config["update_reference"] = {"bpc": 0.0, "guard": guard_key(held_out)}
    (model / "config.json").write_text(json.dumps(config))
    (workspace / "widgets.py").write_text(NEW_MODULE)
    async with session(workspace) as client:
        now = await wait_until(client, lambda now: now["updates"] >= 1)
        assert now["lastUpdate"]["accepted"] is False
        await asyncio.sleep(3)  # were it retried, a second update would have run by now
        now = await status(client)
        assert now["updates"] == 1 and now["queue"] == [{"path": "widgets.py", "reason": "added"}]
        assert any("keeping the previous weights" in m.message for m in client.messages)
        assert (model / "model.safetensors").read_bytes() == weights


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone already
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def test_an_update_killed_midway_is_redone(workspace):
    """kill -9 of the update's process: it wrote nothing, the model stays loadable, and the same
    changes are learned by the next try."""
    async with session(workspace) as client:
        await wait_until(client, lambda now: now["indexedChars"] is not None)
        (workspace / "widgets.py").write_text(NEW_MODULE)
        await wait_until(client, lambda now: now["training"] == "update")
        [update] = children(client._server.pid)
        os.kill(update, signal.SIGKILL)
        now = await wait_until(client, updated(1))
        assert now["lastUpdate"]["files"] == ["widgets.py"] and now["lastUpdate"]["accepted"]
        assert any("the update failed" in m.message for m in client.messages)
        assert "widgets.py" in checkpoint.load(default_model_dir(workspace)).manifest.files
