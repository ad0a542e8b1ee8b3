"""Two ASGI middlewares: the request-size limit, and one log line per request with its id."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LOG = logging.getLogger("styletx.service.requests")


class _TooLarge(Exception):
    pass


async def _send_error(send: Send, status: int, line: str) -> None:
    body = json.dumps({"error": line}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Answer 413 to a request whose body is over ``limit`` bytes, before it is parsed.

    A declared ``Content-Length`` over the limit is refused at once; a body sent
    without one is counted as it arrives and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _line(self) -> str:
        return (f"styletx: error: the request is over the service's limit of "
                f"{self.limit / 2**20:g} MiB (--max-request-mb)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_error(send, 413, self._line())
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _send_error(send, 413, self._line())


class RequestLog:
    """Give each request an id (``X-Request-Id``) and log one line when it ends:
    id, method, path, status and seconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(6)
        t0 = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            REQUEST_LOG.info("%s %s %s %s %.3fs", request_id, scope["method"], scope["path"],
                             status["code"] or "-", time.perf_counter() - t0)
