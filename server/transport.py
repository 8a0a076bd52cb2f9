"""How the server is reached: stdio for one editor, or TCP on loopback for any number of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.io_ import run_async
from pygls.protocol import lsp_method

from .server import Protocol, Server

log = logging.getLogger(__name__)


class ConnectionProtocol(Protocol):
    """pygls exits the process on `exit`; over TCP that would drop every other client, so this
    ends only the connection it came on."""

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any):
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        self._server._stop_event.set()
        if self.writer is not None:
            self.writer.close()


def serve_tcp(
    host: str, port: int, make: Callable[..., Server], announce: Callable[[str], None]
) -> None:
    """Serve each connection with a server of its own until interrupted."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server = make(protocol_cls=ConnectionProtocol)
        server._stop_event = threading.Event()
        server.protocol.set_writer(writer)  # type: ignore[arg-type]
        try:
            await run_async(
                stop_event=server._stop_event, reader=reader, protocol=server.protocol, logger=log
            )
        finally:
            server.close()
            writer.close()

    async def main() -> None:
        listener = await asyncio.start_server(connection, host, port)
        bound = listener.sockets[0].getsockname()
        announce(f"lstm-complete: listening on {host}:{bound[1]}")
        async with listener:
            await listener.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
