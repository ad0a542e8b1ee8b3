"""``POST /v1/transfer``: an upload restyled, answered with the file in the format asked."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from styletx.service.dependencies import Folder, Pool, Settings, installed_style, require_token, save_upload
from styletx.service.forms import MEDIA_TYPE, OUTPUT_SUFFIX, RenderForm
from styletx.service.jobs import TransferJob, run_transfer

router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])


def _header(value: object) -> str:
    """A header value as ASCII JSON (warnings and chord names may hold ♭ or ♯)."""
    return json.dumps(value, ensure_ascii=True)


@router.post("/transfer", response_class=Response, responses={
    200: {"description": "the restyled file; X-Styletx-Seed, X-Styletx-Warnings (a JSON list), "
                         "X-Styletx-Notes, X-Styletx-Chords and X-Styletx-Seconds say how"},
    413: {"description": "the request is over the size limit"},
    422: {"description": "bad input or options, or over the bars or time limit"},
    429: {"description": "every worker busy and the queue full (see Retry-After)"}})
async def transfer(
    request: Request,
    form: Annotated[RenderForm, Form()],
    pool: Pool,
    settings: Settings,
    folder: Folder,
) -> Response:
    """Rewrite the accompaniment of ``file`` (MIDI, MusicXML or MXL) in ``style``, as
    ``styletx render`` does with the same options; without ``seed``, one is drawn and reported."""
    seed = form.seed if form.seed is not None else secrets.randbits(63)
    options = form.options(seed)
    style = installed_style(form.style)
    source = save_upload(form.file, folder)
    target = folder / f"{source.stem} ({style}){OUTPUT_SUFFIX[form.format]}"
    job = TransferJob(source, target, style, options, settings.max_bars, settings.max_seconds)
    done = await pool.run(run_transfer, job, request.is_disconnected)
    headers = {
        "Content-Disposition": f'attachment; filename="{target.name}"',
        "X-Styletx-Seed": str(done.seed),
        "X-Styletx-Warnings": _header(done.warnings),
        "X-Styletx-Notes": _header(done.notes),
        "X-Styletx-Chords": _header(done.chart),
        "X-Styletx-Seconds": f"{done.seconds:.3f}",
    }
    return Response(done.data, media_type=MEDIA_TYPE[form.format], headers=headers)
