"""The FastAPI application: :func:`create_app` wires settings, middleware, error answers and routes.

Every failure is answered with one line, ``{"error": "styletx: error: ..."}``, as the CLI
prints it: bad input or options 422, over a limit 413 or 422, a full queue 429 with
``Retry-After``, a wrong token 401. A bug answers 500 with one line too, never a traceback.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartParser

from styletx import __version__
from styletx.errors import StyleTxError
from styletx.service.jobs import CancelledJob
from styletx.service.middleware import BodyLimit, RequestLog
from styletx.service.pool import JobPool, PoolFull
from styletx.service.routers import eval as eval_routes
from styletx.service.routers import info, transfer
from styletx.service.settings import ServiceSettings

CLIENT_CLOSED = 499
"""The status logged for a request whose client went away (nginx's convention)."""


def _one_line(status: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    line = " ".join(text.split())
    if not line.startswith("styletx:"):
        line = f"styletx: error: {line}"
    return JSONResponse({"error": line}, status_code=status, headers=headers)


def _validation_line(exc: RequestValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return f"{where}: {first.get('msg', 'invalid')}"


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service for ``settings`` (default: :class:`ServiceSettings`' defaults).

    The pool of ``settings.jobs`` workers and the private folder for uploads (made by
    :func:`tempfile.mkdtemp`, mode 0700) live as long as the app runs; on shutdown
    running and waiting jobs finish first.
    """
    settings = settings or ServiceSettings()
    # Uploads are held in memory up to the request limit, so the multipart parser never
    # spills one into the system's temporary folder; they are written only to our own.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, settings.max_request_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.workdir = Path(tempfile.mkdtemp(prefix="styletx-serve-"))
        app.state.pool = JobPool(settings.jobs, settings.queue)
        try:
            yield
        finally:
            app.state.pool.shutdown()
            shutil.rmtree(app.state.workdir, ignore_errors=True)

    app = FastAPI(title="styletx", version=__version__, lifespan=lifespan,
                  description="Rewrite the accompaniment of a score in another style, keeping "
                  "the melody note for note.")
    app.state.settings = settings
    for module in (transfer, eval_routes, info):
        app.include_router(module.router)

    @app.exception_handler(StyleTxError)
    async def bad_input(request: Request, exc: StyleTxError) -> JSONResponse:
        status = CLIENT_CLOSED if isinstance(exc, CancelledJob) else 422
        text = str(exc)
        workdir = getattr(request.app.state, "workdir", None)
        if workdir is not None:  # never show the private folder's path
            text = re.sub(re.escape(str(workdir)) + r"[/\\][^/\\\s]+[/\\]", "", text)
        return _one_line(status, text)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _one_line(422, _validation_line(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _one_line(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(PoolFull)
    async def busy(request: Request, exc: PoolFull) -> JSONResponse:
        return _one_line(429, str(exc), headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"styletx: internal error: {type(exc).__name__}"},
                            status_code=500)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization"],
                           expose_headers=["X-Styletx-Seed", "X-Styletx-Warnings", "X-Request-Id"])
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(RequestLog)
    return app
