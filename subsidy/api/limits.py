"""A limit on the size of request bodies, enforced before any route reads one.

No form of this service comes near 1 MiB (a training class of 200 trainees is about 40 KiB). A larger body is
answered 413 at once when its Content-Length says so; a body without one (chunked) is read up to the limit and
refused as soon as it passes it, so nobody can make the service hold more than the limit per request.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
# Evidence documents (at most 5 MiB each, subsidy/api/documents.py) travel in multipart bodies to these paths alone.
UPLOAD_BODY_BYTES = 6 * 1024 * 1024
UPLOAD_PATHS = re.compile(r"^(/api/v1/applications/[0-9a-f-]{36}/documents|/documents/[0-9a-f-]{36})$")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOAD_BODY_BYTES if UPLOAD_PATHS.match(scope.get("path", "")) else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        # No length given: read what comes, up to the limit, then hand the app the same messages.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": f"the request body is larger than {limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                # The rest of the body is not read: the connection cannot be reused.
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
