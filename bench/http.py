"""A lean HTTP/1.1 client for the load generator: one keep-alive connection per simulated user, parsed by httptools.

The load generator shares two cores with the service it measures, so its own cost counts. httpx spent 3-6 ms of CPU
per request here (its connection pool grows costly at 50 requests in flight), more than the API spent answering;
this client spends a fraction of a millisecond, like a browser tab it keeps one connection and one request at a time.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import httptools

IDLE_SECONDS = 2.0  # reconnect rather than reuse a connection uvicorn may be closing (its keep-alive is 5 s)
TIMEOUT_SECONDS = 120.0


class Response:
    def __init__(self, method: str, path: str, status_code: int, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"{self.method} {self.path}: {self.status_code} {self.text}")


class _Message:
    """httptools callbacks for one response."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    """One request at a time over one connection, reopened when it has been idle or the server closed it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.headers = dict(headers or {})
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        stale = time.monotonic() - self._last_used > IDLE_SECONDS
        if self._reader is None or self._writer is None or stale or self._reader.at_eof():
            await self.close()
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        target = f"{path}?{urlencode(params)}" if params else path
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            lines.append("Content-Type: application/json")
        elif form is not None:
            body = urlencode(form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in {**self.headers, **(headers or {})}.items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reader, writer = await self._open()
            writer.write(raw)
            message = _Message()
            parser = httptools.HttpResponseParser(message)
            while not message.complete:
                data = await reader.read(65536)
                if not data:
                    await self.close()
                    raise ConnectionError(f"{method} {path}: the server closed the connection without an answer")
                parser.feed_data(data)
        self._last_used = time.monotonic()
        if not parser.should_keep_alive():
            await self.close()
        return Response(method, path, parser.get_status_code(), message.headers, bytes(message.body))

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Response:
        return await self.request("POST", path, **kwargs)
