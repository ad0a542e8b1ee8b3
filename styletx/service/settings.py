"""The service's settings, in one object, and the check that a non-local bind has a token.

Torch- and FastAPI-free: the CLI reads the defaults for ``styletx serve --help``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from styletx.errors import StyleTxError

TOKEN_ENV = "STYLETX_TOKEN"


@dataclass(frozen=True)
class ServiceSettings:
    """Where the service listens, how many jobs it runs, and its limits.

    Every limit answers with one line (413 or 422) when passed; ``queue`` full answers 429.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    jobs: int = 1
    """Worker processes, as in ``styletx batch --jobs`` (one torch thread each)."""
    queue: int = 4
    """Jobs that may wait for a free worker; past ``jobs + queue`` a request gets 429."""
    token: str | None = None
    """Required as ``Authorization: Bearer TOKEN`` on every ``/v1`` route when set."""
    max_request_bytes: int = 8 * 1024 * 1024
    """Largest request body (the upload and its form fields): 413 past it."""
    max_bars: int = 400
    """Longest piece in bars: 422 past it."""
    max_seconds: float = 120.0
    """Longest a job may run, checked while it samples: 422 past it."""
    cors_origins: tuple[str, ...] = ()
    """Origins a browser may call from; empty (the default) sends no CORS headers."""

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise StyleTxError("--jobs must be at least 1")
        if self.queue < 0:
            raise StyleTxError("--queue must be 0 or more")
        if min(self.max_request_bytes, self.max_bars, self.max_seconds) <= 0:
            raise StyleTxError("--max-request-mb, --max-bars and --max-seconds must be positive")
        if not is_loopback(self.host) and not self.token:
            raise StyleTxError(
                f"--host {self.host} is not a loopback address, so the service needs a token: "
                f"give --token T or set {TOKEN_ENV}")

    @property
    def capacity(self) -> int:
        """Jobs running or waiting at once."""
        return self.jobs + self.queue


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (``localhost``, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_from_env(token: str | None) -> str | None:
    """``--token``, else ``$STYLETX_TOKEN``, else none."""
    return token or os.environ.get(TOKEN_ENV) or None
