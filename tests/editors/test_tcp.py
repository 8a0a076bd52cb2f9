"""TCP mode, as editors that connect to a running server use it (Emacs's `C-u M-x eglot` with
host:port, for one): two clients connected to one `serve --tcp` at the same time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.conftest import MODULE
from tests.server.lsp import complete, inline, open_document
from tests.server.test_lsp import cut_after

KILO = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo")


@pytest.fixture
def tcp_server(tiny_model: Path) -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--tcp",
            "--port",
            "0",
            "--model",
            str(tiny_model),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        announced = proc.stdout.readline().strip()
        assert announced.startswith("lstm-complete: listening on "), announced
        host, port = announced.rsplit(" ", 1)[1].rsplit(":", 1)
        yield host, int(port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def connect(host: str, port: int, root: Path) -> LanguageClient:
    client = LanguageClient("test", "1")
    await client.start_tcp(host, port)
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(types.InitializedParams())
    for _ in range(300):
        now = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="lstm-complete.status")
        )
        if now["state"] == "ready":
            return client
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server stayed {now}")


async def suggestions(
    client: LanguageClient, uri: str, line: int, col: int
) -> tuple[list[str], list[str]]:
    found = await complete(client, uri, line, col)
    texts = [item.text_edit.new_text for item in found.items] if found else []
    return await inline(client, uri, line, col), texts


async def disconnect(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def test_two_clients_connected_at_once_both_get_completions(
    tcp_server, corpus_dir: Path
) -> None:
    host, port = tcp_server
    assert host == "127.0.0.1"  # loopback only, by default
    text, line, col = cut_after(KILO, "self.items.app")
    expected = (["end(item)"], "append(item)")

    first, second = await asyncio.gather(*(connect(host, port, corpus_dir) for _ in range(2)))
    uri_first = open_document(first, corpus_dir / "kilo.py", text)
    uri_second = open_document(second, corpus_dir / "kilo.py", text)
    # Both ask at once: each connection has its own documents and its own model thread.
    both = await asyncio.gather(
        suggestions(first, uri_first, line, col), suggestions(second, uri_second, line, col)
    )
    for inline_texts, list_texts in both:
        assert (inline_texts, list_texts[0]) == expected
    # One client leaving ends only its own connection; the other keeps being served.
    await disconnect(first)
    inline_texts, list_texts = await suggestions(second, uri_second, line, col)
    assert (inline_texts, list_texts[0]) == expected
    await disconnect(second)
