"""Dependencies of the routes: the settings, the token check, the pool and the private folder."""

from __future__ import annotations

import hmac
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from styletx.errors import StyleTxError
from styletx.score.read import SONG_SUFFIXES
from styletx.service.pool import JobPool
from styletx.service.settings import ServiceSettings
from styletx.styles import styles

INPUT_SUFFIXES = SONG_SUFFIXES

_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_pool(request: Request) -> JobPool:
    return request.app.state.pool


Settings = Annotated[ServiceSettings, Depends(get_settings)]
Pool = Annotated[JobPool, Depends(get_pool)]


def require_token(
    settings: Settings, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """With a token set, every ``/v1`` route needs ``Authorization: Bearer TOKEN`` (compared in
    constant time); without one (a loopback bind), none is asked."""
    if settings.token is None:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), settings.token.encode()):
        raise HTTPException(401, "styletx: error: a missing or wrong token (send "
                                 "'Authorization: Bearer TOKEN')",
                            headers={"WWW-Authenticate": "Bearer"})


def private_dir(request: Request) -> Iterator[Path]:
    """A fresh folder for one request inside the service's private one (mode 0700), removed after."""
    folder = Path(tempfile.mkdtemp(dir=request.app.state.workdir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


Folder = Annotated[Path, Depends(private_dir)]


def installed_style(name: str) -> str:
    """``name`` if it is an installed style; a request never names a folder on the server."""
    names = styles()
    if name not in names:
        raise StyleTxError(f"unknown style {name!r}: installed styles are {', '.join(names)}")
    return name


def save_upload(upload: UploadFile, folder: Path) -> Path:
    """Write an upload into ``folder`` under a cleaned copy of its base name and return the path.

    Only the name's last component is kept (no folders), with a suffix the reader knows.
    """
    name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise StyleTxError(f"{name or 'the upload'}: send a file named {', '.join(INPUT_SUFFIXES)}")
    stem = re.sub(r"[^\w .()+-]", "_", PurePosixPath(name).stem)[:80].strip(" .") or "upload"
    path = folder / f"{stem}{suffix}"
    if path.exists():  # the second file of a pair with the first one's name
        path = folder / f"{stem}-2{suffix}"
    with path.open("wb") as f:
        shutil.copyfileobj(upload.file, f)
    return path
