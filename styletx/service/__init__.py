"""``styletx serve``: a local HTTP service for notation programs and scripts, and the MuseScore plugin.

This subpackage owns the HTTP layer and nothing else: thin routes (:mod:`~styletx.service.app`)
over the library's transfer (:func:`styletx.api.transfer`) and report card
(:func:`styletx.evaluation.card.report_card`), the settings in one object
(:mod:`~styletx.service.settings`), the dependencies that check the token and the limits
(:mod:`~styletx.service.deps`), the bounded pool of worker processes that run the jobs
(:mod:`~styletx.service.pool`, with :mod:`~styletx.service.jobs` inside the workers), the
server's start and drain (:mod:`~styletx.service.server`) and the MuseScore plugin shipped as
package data with its installer (:mod:`~styletx.service.plugin`).

It may import every library layer (``errors``, ``io``, ``music``, ``model``, ``api``,
``styles``, ``diagnostics``, ``evaluation``) but never the CLI; only ``settings`` and
``plugin`` are imported by the CLI before a server starts, so they import neither FastAPI
nor torch.
"""
