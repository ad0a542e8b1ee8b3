"""What the service's worker processes run: a transfer or a report card, each style loaded once.

A worker keeps every style it has loaded (:func:`worker_style`), so a style's weights are read
once per worker, not per request. A running transfer watches its slot's cancel flag and its
deadline from the sampler's progress callback, so a client that disconnects, or a job past
``max_seconds``, stops within one sampler step.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from styletx.api import TransferOptions, load_source, transfer
from styletx.diagnostics import collect_warnings
from styletx.errors import StyleTxError
from styletx.music.timing import bar_starts
from styletx.styles import Style, load_style


class LimitError(StyleTxError):
    """A request past one of the service's limits (bars, time per request)."""


class CancelledJob(StyleTxError):
    """The client went away, so its job was stopped."""


_STYLES: dict[str, Style] = {}
_CANCEL: MutableSequence[int] | None = None


def init_worker(cancel_flags: MutableSequence[int] | None) -> None:
    """Worker start: one torch thread (the workers are the parallelism), the shared cancel flags,
    and Ctrl-C left to the server, which lets running jobs finish before it stops."""
    import torch

    global _CANCEL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    _CANCEL = cancel_flags


def worker_style(name: str) -> Style:
    """The style ``name``, loaded on first use in this process and kept."""
    if name not in _STYLES:
        _STYLES[name] = load_style(name)
    return _STYLES[name]


def _watch(slot: int, deadline: float, limit: float) -> Any:
    """A progress callback that stops the job when its slot is cancelled or its time is up."""

    def check(done: int, total: int) -> None:
        if _CANCEL is not None and _CANCEL[slot]:
            raise CancelledJob("the client disconnected")
        if time.monotonic() > deadline:
            raise LimitError(f"the job ran past the service's limit of {limit:g} s per request "
                             "(--max-seconds); send fewer bars")

    return check


@dataclass(frozen=True)
class TransferJob:
    """One upload to restyle: where it lies in the private folder and how to render it."""

    source: Path
    target: Path
    style: str
    options: TransferOptions
    max_bars: int
    max_seconds: float
    slot: int = 0


@dataclass(frozen=True)
class Rendered:
    """A finished transfer: the output file's bytes and what the response headers report."""

    data: bytes
    seed: int
    seconds: float
    chart: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    worker: int = 0


def run_transfer(job: TransferJob) -> Rendered:
    """Restyle ``job.source`` into ``job.target`` as ``styletx render`` does, and return the bytes.

    Raises
    ------
    StyleTxError
        Bad input (the reader's and the transfer's one-line errors), :class:`LimitError`
        past ``max_bars`` or ``max_seconds``, :class:`CancelledJob` when cancelled.
    """
    t0 = time.monotonic()
    with collect_warnings():  # this first read only counts bars; the transfer reports its warnings
        bars = len(bar_starts(load_source(job.source)))
    if bars > job.max_bars:
        raise LimitError(f"the piece has {bars} bars, over the service's limit of {job.max_bars} "
                         "(--max-bars); send fewer bars")
    style = worker_style(job.style)
    with collect_warnings() as collected:
        result = transfer(job.source, style, job.options,
                          progress=_watch(job.slot, t0 + job.max_seconds, job.max_seconds))
        result.write(job.target)
    private = f"{job.source.parent}{os.sep}"  # the client knows its file by its own name
    return Rendered(
        data=job.target.read_bytes(), seed=job.options.sampler.seed or 0,
        seconds=result.seconds, chart=result.chart,
        warnings=[m.replace(private, "") for m in collected.messages],
        notes=list(result.notes), worker=os.getpid())


@dataclass(frozen=True)
class EvalJob:
    """A pair of uploads (an input and a transfer of it) to score against a style."""

    source: Path
    output: Path
    style: str
    melody_track: int | str | None = None
    slot: int = 0


def run_eval(job: EvalJob) -> dict[str, Any]:
    """The report card of ``styletx eval IN OUT --style S --json``, as JSON-ready data; the
    files are named as the client sent them."""
    from styletx.evaluation.report import report_card

    card = report_card(job.source, job.output, worker_style(job.style),
                       melody_track=job.melody_track).to_dict()
    return {**card, "input_file": job.source.name, "output_file": job.output.name}
