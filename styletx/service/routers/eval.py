"""``POST /v1/eval``: the report card of a transfer, as ``styletx eval IN OUT --style S --json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request

from styletx.service.dependencies import Folder, Pool, installed_style, require_token, save_upload
from styletx.service.forms import EvalForm
from styletx.service.jobs import EvalJob, run_eval

router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])


@router.post("/eval")
async def evaluate(
    request: Request,
    form: Annotated[EvalForm, Form()],
    pool: Pool,
    folder: Folder,
) -> dict[str, Any]:
    """Score ``output``, a transfer of ``input``, into ``style``: the output's metrics beside
    the input's and the style data's (:func:`styletx.evaluation.report.report_card`)."""
    style = installed_style(form.style)
    track = form.melody_track
    job = EvalJob(save_upload(form.input, folder), save_upload(form.output, folder), style,
                  int(track) if track is not None and track.isdigit() else track)
    return await pool.run(run_eval, job, request.is_disconnected)
