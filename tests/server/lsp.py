"""A real LSP session against `lstm-complete serve --stdio`, run as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient as PyglsClient
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", "serve", *args]


@contextlib.asynccontextmanager
async def session(
    root: Path, *args: str, options: dict[str, Any] | None = None, ready: bool = True
) -> AsyncIterator[LanguageClient]:
    client = await ClientServerConfig(server_command=server_command(*args)).start()
    try:
        client.init_result = await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=options,
            )
        )
        if ready:
            await wait_for_state(client, "ready")
        yield client
        await client.shutdown_session()
    except BaseException:
        # stop() waits for the server to exit, which it does only after a clean shutdown
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        raise
    finally:
        await client.stop()


async def status(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="lstm-complete.status", arguments=[])
    )


async def wait_for_state(
    client: LanguageClient, *states: str, timeout: float = 60
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = await status(client)
        if now["state"] in states:
            return now
        if loop.time() > deadline:
            raise AssertionError(f"server stayed {now}")
        await asyncio.sleep(0.1)


async def wait_for_index(client: LanguageClient) -> None:
    """Until the match model has the workspace: answers before it may differ from those after."""
    while (await status(client))["indexedChars"] is None:
        await asyncio.sleep(0.1)


def open_document(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


async def inline(client: LanguageClient, uri: str, line: int, character: int) -> list[str]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    if result is None:
        return []
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return [item.insert_text for item in items]


async def complete(
    client: LanguageClient, uri: str, line: int, character: int
) -> types.CompletionList | None:
    return await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )


@contextlib.contextmanager
def tcp_server(model: Path) -> Iterator[tuple[str, int]]:
    """`serve --tcp --port 0` as a subprocess: the host and port it announces."""
    proc = subprocess.Popen(
        [*server_command("--tcp", "--port", "0", "--model", str(model))],
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


async def connect_tcp(host: str, port: int, root: Path) -> PyglsClient:
    """A client over TCP, initialized, once the server says its model is ready and the workspace
    indexed (the model answers before the match index is built; answers differ until then)."""
    client = PyglsClient("test", "1")
    await client.start_tcp(host, port)
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(types.InitializedParams())
    for _ in range(300):
        now = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="lstm-complete.status")
        )
        if now["state"] == "ready" and now["indexedChars"] is not None:
            return client
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server stayed {now}")
