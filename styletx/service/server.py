"""Run the service under uvicorn: ``styletx serve``.

Ctrl-C (SIGINT) or SIGTERM stops taking new connections, lets the requests in progress
finish (the workers ignore SIGINT, so their jobs run to the end), then stops the pool.
"""

from __future__ import annotations

import logging
import sys

from styletx.service.settings import ServiceSettings


def serve(settings: ServiceSettings) -> None:
    """Serve ``settings`` until interrupted, logging one line per request on stderr."""
    import uvicorn

    from styletx.service.main import create_app
    from styletx.service.middleware import REQUEST_LOG

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("styletx serve: %(asctime)s %(message)s"))
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.setLevel(logging.INFO)
    REQUEST_LOG.propagate = False
    url = f"http://{settings.host}:{settings.port}"
    REQUEST_LOG.info("listening on %s with %d worker(s) and a queue of %d (API docs at %s/docs%s)",
                     url, settings.jobs, settings.queue, url,
                     "; a token is required" if settings.token else "")
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port,
                            access_log=False, log_level="warning")
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has drained: a clean stop
        pass
    REQUEST_LOG.info("stopped")
