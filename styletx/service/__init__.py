"""``styletx serve``: a local HTTP service for notation programs and scripts, and the MuseScore plugin.

This subpackage owns the HTTP layer and nothing else: thin routes
(:mod:`~styletx.service.routers`, wired by :mod:`~styletx.service.main`) over the library's
transfer (:func:`styletx.api.transfer`) and report card
(:func:`styletx.evaluation.report.report_card`); the settings in one object
(:mod:`~styletx.service.settings`); the form fields (:mod:`~styletx.service.forms`); the
dependencies that check the token (:mod:`~styletx.service.dependencies`); the size limit and
the request log (:mod:`~styletx.service.middleware`); the bounded pool of worker processes
(:mod:`~styletx.service.pool`, with :mod:`~styletx.service.jobs` inside the workers); the
server's start and drain (:mod:`~styletx.service.server`); and the MuseScore plugin shipped
as package data with its installer (:mod:`~styletx.service.plugin`).

It may import every library layer (``errors``, ``io``, ``score``, ``music``, ``model``, ``api``,
``styles``, ``diagnostics``, ``preview``, ``evaluation``) but never the CLI; only ``settings``
and ``plugin`` are imported by the CLI before a server starts, so they import neither FastAPI
nor torch.
"""
