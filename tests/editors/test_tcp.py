"""TCP mode, as editors that connect to a running server use it (Emacs's `C-u M-x eglot` with
host:port, for one): two clients connected to one `serve --tcp` at the same time."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pygls.lsp.client import LanguageClient

from tests.conftest import MODULE
from tests.server.lsp import complete, connect_tcp, inline, open_document
from tests.server.lsp import tcp_server as serve_tcp
from tests.server.test_lsp import cut_after

KILO = textwrap.dedent(MODULE).format(name="Kilo", lower="kilo")


@pytest.fixture
def tcp_server(tiny_model: Path) -> Iterator[tuple[str, int]]:
    with serve_tcp(tiny_model) as address:
        yield address


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

    first, second = await asyncio.gather(*(connect_tcp(host, port, corpus_dir) for _ in range(2)))
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
