"""The language server end to end: a real server process over stdio, a tiny real model."""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap

import pytest
from lsprotocol import types

from tests.conftest import MODULE

from .lsp import (
    complete,
    connect_tcp,
    inline,
    open_document,
    session,
    status,
    tcp_server,
    wait_for_index,
    wait_for_state,
)

KILO = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo")


def position_after(text: str, marker: str) -> tuple[int, int]:
    before = text[: text.index(marker) + len(marker)]
    return before.count("\n"), len(before.rsplit("\n", 1)[-1])


def cut_after(text: str, marker: str) -> tuple[str, int, int]:
    """The text with the rest of the marker's line removed, and the position after the marker."""
    end = text.index(marker) + len(marker)
    line_end = text.index("\n", end)
    cut = text[:end] + text[line_end:]
    return (cut, *position_after(cut, marker))


async def test_capabilities_and_both_requests(tiny_model, corpus_dir):
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        await wait_for_index(client)  # its answers rely on the match model
        caps = client.init_result.capabilities
        assert caps.inline_completion_provider is not None
        assert "." in caps.completion_provider.trigger_characters
        assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        assert "lstm-complete.status" in caps.execute_command_provider.commands

        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        [suggestion] = await inline(client, uri, line, col)
        assert suggestion == "end(item)"

        result = await complete(client, uri, line, col)
        assert result.is_incomplete and result.items
        first = result.items[0]
        assert first.text_edit.new_text == "append(item)"
        assert first.text_edit.range.start.character == col - len("app")
        likely = [float(i.detail.split("%")[0]) for i in result.items]
        assert likely == sorted(likely, reverse=True)
        assert len({i.text_edit.new_text for i in result.items}) == len(result.items)
        for item in result.items:
            assert len(item.text_edit.new_text.strip()) > 1


async def test_status_reports_the_model(tiny_model, corpus_dir):
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        now = await status(client)
        assert now["state"] == "ready" and now["message"] is None
        assert now["model"]["path"] == str(tiny_model)
        assert now["model"]["parameters"] > 0 and now["model"]["trainedChars"] > 0
        assert now["model"]["heldOutBpc"] > 0 and now["queue"] == []


async def test_settings_change_behaviour_live(tiny_model, corpus_dir):
    async with session(
        corpus_dir, "--model", str(tiny_model), options={"numSuggestions": 2}
    ) as client:
        await wait_for_index(client)  # its answers rely on the match model
        text, line, col = cut_after(KILO, "def load_")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        assert len((await complete(client, uri, line, col)).items) <= 2

        def configure(values):
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"lstmComplete": values})
            )

        configure({"inlineEnabled": False, "listEnabled": False})
        assert await inline(client, uri, line, col) == []
        assert await complete(client, uri, line, col) is None
        configure({"inlineEnabled": True, "maxLength": 3})
        [short] = await inline(client, uri, line, col)
        assert len(short) <= 3

        configure({"temperature": "hot"})
        await asyncio.sleep(0.2)
        assert any("lstmComplete.temperature" in m.message for m in client.messages)


async def test_incremental_edits_match_a_fresh_read(tiny_model, corpus_dir):
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        await wait_for_index(client)  # else the fresh read may meet another match model
        text = KILO
        uri = open_document(client, corpus_dir / "kilo.py", text)
        edits = [
            ((5, 0), (5, 0), "    # a comment\n"),
            ((9, 8), (9, 12), "self.data"),
            ((2, 0), (3, 0), ""),
            ((12, 4), (12, 4), "x = [1, 2, 3]\n    "),
        ]
        version = 1
        for (l0, c0), (l1, c1), new in edits:
            probe = position_after(text, "return ")
            await inline(client, uri, *probe)  # fills the cache before the edit
            lines = text.split("\n")
            start = sum(len(x) + 1 for x in lines[:l0]) + c0
            end = sum(len(x) + 1 for x in lines[:l1]) + c1
            text = text[:start] + new + text[end:]
            version += 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line=l0, character=c0),
                                end=types.Position(line=l1, character=c1),
                            ),
                            text=new,
                        )
                    ],
                )
            )
        fresh = open_document(client, corpus_dir / "fresh.py", text)
        lines = text.split("\n")
        probes = [(i, len(line) // 2) for i, line in enumerate(lines) if line.strip()]
        for probe in probes:
            assert await inline(client, uri, *probe) == await inline(client, fresh, *probe), probe
            edited = await complete(client, uri, *probe)
            again = await complete(client, fresh, *probe)
            assert [i.text_edit.new_text for i in edited.items] == [
                i.text_edit.new_text for i in again.items
            ]


async def test_a_newer_request_supersedes_and_cancel_is_honoured(tiny_model, corpus_dir):
    options = {"temperature": 1.0, "numSuggestions": 20, "maxLength": 400}
    async with session(corpus_dir, "--model", str(tiny_model), options=options) as client:
        text, line, col = cut_after(KILO, "return ")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        burst = [asyncio.ensure_future(complete(client, uri, line, col)) for _ in range(8)]
        results = await asyncio.gather(*burst)
        assert results[-1] is not None and results[-1].items
        assert any(r is None for r in results[:-1])  # superseded while the newest waited

        params = types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
        )
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_COMPLETION, params, msg_id="cancel-me"
            )
        )
        await asyncio.sleep(0)  # sent
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
        try:
            outcome = await pending
            assert outcome is None or outcome.items is not None
        except Exception as err:  # the standard answer to a cancelled request
            assert "cancel" in str(err).lower()
        assert await status(client)  # still answering


async def test_bad_input_gets_empty_answers(tiny_model, corpus_dir):
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        await wait_for_index(client)  # its answers rely on the match model
        unknown = (corpus_dir / "never-opened.py").as_uri()
        assert await inline(client, unknown, 0, 0) == []
        assert await complete(client, unknown, 0, 0) is None
        uri = open_document(client, corpus_dir / "kilo.py", KILO)
        # LSP: a character past the end of a line "defaults back to the line length"
        end = position_after(KILO, "Keeps Kilo records on disk.")
        assert await inline(client, uri, end[0], 500) == await inline(client, uri, *end)
        assert await inline(client, uri, 10_000, 0) == []
        assert await complete(client, uri, 10_000, 3) is None
        notes = open_document(
            client, corpus_dir / "notes.md", "# Notes\nsome text", language="markdown"
        )
        assert await complete(client, notes, 1, 4) is None
        long_line = "x = [" + ", ".join(["value"] * 16_000) + "]"
        assert len(long_line) > 100_000
        huge = open_document(client, corpus_dir / "huge.py", long_line + "\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await inline(client, huge, 0, len(long_line) - 1)
        await complete(client, huge, 0, 60_000)
        assert loop.time() - started < 20
        assert (await status(client))["state"] == "ready"


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
async def test_a_bad_model_is_reported_and_the_base_model_stands_in(
    tiny_model, corpus_dir, tmp_path, damage
):
    model = tmp_path / "model"
    if damage == "corrupt":
        shutil.copytree(tiny_model, model)
        (model / "model.safetensors").write_bytes(b"\0garbage")
    async with session(corpus_dir, "--model", str(model), ready=False) as client:
        now = await wait_for_state(client, "ready")
        expected = "model.safetensors" if damage == "corrupt" else "no model folder"
        assert expected in now["message"] and "answering from the base model" in now["message"]
        assert now["model"]["isBase"]
        await asyncio.sleep(0.2)
        assert any(expected in m.message for m in client.messages)
        uri = open_document(client, corpus_dir / "kilo.py", KILO)
        assert await complete(client, uri, 3, 4) is not None


def test_tcp_serves_clients_one_after_another_on_loopback(tiny_model, corpus_dir):
    with tcp_server(tiny_model) as (host, port):
        assert host == "127.0.0.1"

        async def one_client() -> str:
            client = await connect_tcp(host, port, corpus_dir)
            text, line, col = cut_after(KILO, "self.items.app")
            uri = open_document(client, corpus_dir / "kilo.py", text)
            found = await inline(client, uri, line, col)
            await client.shutdown_async(None)
            client.exit(None)
            await client.stop()
            return json.dumps(found)

        first = asyncio.run(one_client())
        second = asyncio.run(one_client())
        assert first == second == json.dumps(["end(item)"])


async def test_cold_start_answers_from_the_base_model_then_switches(
    tiny_model, corpus_dir, tmp_path, monkeypatch
):
    """No model for the workspace: suggestions come from the base model at once, a workspace model
    is fine-tuned in the background with $/progress, and the server switches to it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    workspace = tmp_path / "workspace"
    shutil.copytree(corpus_dir, workspace)
    async with session(workspace, "--cold-start-minutes", "0.05", ready=False) as client:
        first = await wait_for_state(client, "ready", "training")
        assert first["model"] is None or first["model"]["isBase"]
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, workspace / "kilo.py", text)
        assert await inline(client, uri, line, col)  # the base model answers straight away
        switched = None
        for _ in range(600):
            now = await status(client)
            if now["model"] and not now["model"]["isBase"] and now["state"] == "ready":
                switched = now
                break
            await asyncio.sleep(0.2)
        assert switched is not None, now
        assert str(tmp_path / "cache") in switched["model"]["path"]
        assert client.progress_reports  # progress was reported through $/progress
        assert await inline(client, uri, line, col)


async def test_a_line_written_below_the_cursor_is_offered_above_it(tiny_model, corpus_dir):
    text = (
        "def first():\n"
        "    gizmo = assemble_q\n"
        "\n"
        "\n"
        "def second():\n"
        "    gizmo = assemble_quuxwidget(spindle, 42)\n"
        "    return gizmo\n"
    )
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        await wait_for_index(client)
        uri = open_document(client, corpus_dir / "gizmo.py", text)
        line, col = position_after(text, "    gizmo = assemble_q")
        assert await inline(client, uri, line, col) == ["uuxwidget(spindle, 42)"]
        result = await complete(client, uri, line, col)
        assert result.items[0].text_edit.new_text == "assemble_quuxwidget(spindle, 42)"


async def test_inline_and_list_requests_do_not_supersede_each_other(tiny_model, corpus_dir):
    async with session(corpus_dir, "--model", str(tiny_model)) as client:
        await wait_for_index(client)  # its answers rely on the match model
        text, line, col = cut_after(KILO, "self.items.app")
        uri = open_document(client, corpus_dir / "kilo.py", text)
        listed, ghost = await asyncio.gather(
            complete(client, uri, line, col), inline(client, uri, line, col)
        )
        assert listed is not None and listed.items[0].text_edit.new_text == "append(item)"
        assert ghost == ["end(item)"]


async def test_a_saved_copy_of_the_document_does_not_blank_its_suggestions(
    tiny_model, corpus_dir, tmp_path
):
    """With autosave, the workspace index holds the document as typed so far; matching that copy
    would predict what is already after the cursor (the end of the line)."""
    workspace = tmp_path / "workspace"
    shutil.copytree(corpus_dir, workspace)
    text, line, col = cut_after(KILO, "self.items.app")
    (workspace / "kilo.py").write_text(text)
    async with session(workspace, "--model", str(tiny_model)) as client:
        while (await status(client))["indexedChars"] is None:
            await asyncio.sleep(0.1)
        uri = open_document(client, workspace / "kilo.py", text)
        assert await inline(client, uri, line, col) == ["end(item)"]


def listening_addresses(port: int) -> list[str]:
    """The local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6 (no
    tool needed): an IPv4 one as dotted quad, an IPv6 one as its 32 hex digits."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for row in fh.read().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    if len(address) == 8:
                        address = ".".join(str(b) for b in reversed(bytes.fromhex(address)))
                    found.append(address)
    return found


def test_tcp_listens_on_loopback_only_by_default(tiny_model):
    with tcp_server(tiny_model) as (_host, port):
        assert listening_addresses(port) == ["127.0.0.1"]
