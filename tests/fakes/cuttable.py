"""A loopback TCP relay to a PostgreSQL server that a test can cut, like a network failure.

The process under test connects to ``url`` (the server's URL with the relay's address);
``cut()`` closes every relayed connection and refuses new ones until ``mend()``.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import make_url


class CuttableLink:
    """Relays loopback TCP connections to the server of ``server_url`` (socket or TCP)."""

    def __init__(self, server_url: str) -> None:
        self._target = make_url(server_url)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.cut_off = False
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        query = {k: v for k, v in self._target.query.items() if k != "host"}
        self.url = self._target.set(host="127.0.0.1", port=port, query=query).render_as_string(
            hide_password=False
        )

    async def _open_server(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self._target.query.get("host")
        if isinstance(socket_dir, str) and socket_dir.startswith("/"):
            port = self._target.port or 5432
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(self._target.host, self._target.port or 5432)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.close()
            return
        server_reader, server_writer = await self._open_server()
        self._links |= {writer, server_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, server_writer), pump(server_reader, writer))
        self._links -= {writer, server_writer}

    def cut(self) -> None:
        """Drop every relayed connection; refuse new ones."""
        self.cut_off = True
        for writer in self._links:
            writer.close()

    def mend(self) -> None:
        self.cut_off = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
