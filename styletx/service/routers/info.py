"""``GET /v1/styles`` and ``GET /v1/health``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from styletx import __version__
from styletx.service.dependencies import Pool, require_token
from styletx.styles import read_info, style_origins

router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])


@router.get("/styles")
def list_styles() -> list[dict[str, Any]]:
    """The installed styles (as ``styletx styles``, without server paths)."""
    rows = []
    for name, (directory, origin) in sorted(style_origins().items()):
        info = read_info(directory)
        rows.append({"name": name, "origin": origin, "description": info.description,
                     "meters": info.meters, "temperature": info.temperature,
                     "chords_per": info.harmonic_rhythm})
    return rows


@router.get("/health")
def health(pool: Pool) -> dict[str, Any]:
    """Whether the service is up, and how busy: ``busy`` of ``capacity`` jobs running or waiting."""
    return {"status": "ok", "version": __version__, "jobs": pool.jobs, "busy": pool.busy,
            "capacity": pool.capacity}
