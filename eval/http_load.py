"""A lean HTTP/1.1 keep-alive client on asyncio streams, for load generation on the same small machine.

A general client (httpx) spends about as much CPU per request as a small FastAPI endpoint, so on a 2-core machine
it, not the server, sets the measured throughput. This one does only what a benchmark needs: keep-alive connections
from a pool, JSON bodies, Content-Length or chunked responses.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HttpError(Exception):
    """The connection failed or the response could not be read."""


class Connection:
    """One keep-alive connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Send a prepared request head and body; return the status and the response body."""
        self.writer.write(head + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                data = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(data[:-2])
            return status, b"".join(chunks)
        return status, await self.reader.readexactly(int(headers.get("content-length", "0")))

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


class Pool:
    """Up to ``size`` keep-alive connections to one server; a request waits for a free one."""

    def __init__(self, host: str, port: int, size: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.size = host, port, size
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self._opened = 0

    async def _get(self) -> Connection:
        if self._idle.empty() and self._opened < self.size:
            self._opened += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as e:
                self._opened -= 1
                raise HttpError(str(e)) from e
            return Connection(reader, writer)
        return await self._idle.get()

    async def request(self, method: str, path: str, payload: Any = None) -> tuple[int, bytes]:
        """One request (JSON body when ``payload`` is given)."""
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        conn = await self._get()
        try:
            result = await conn.request(head, body)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            conn.close()
            self._opened -= 1
            raise HttpError(f"{type(e).__name__}: {e}") from e
        self._idle.put_nowait(conn)
        return result

    async def close(self) -> None:
        """Close every idle connection."""
        while not self._idle.empty():
            self._idle.get_nowait().close()
