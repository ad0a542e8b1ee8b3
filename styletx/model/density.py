"""``--density``: the onset-logit shift that makes one piece, with one seed, X times as busy.

Adding ``b`` nats to every onset logit multiplies an onset's odds by ``e^b``, but the Gibbs
chain pushes back (each frame reads busier or sparser neighbours), and how hard differs
from piece to piece and from one shift to the next: on 8 bars of a Schubert song, folk's
onsets went 1.00, 0.98, 2.57, 1.51 times the default's at shifts 0, +3, +6, +9. So a style
keeps a calibrated table of the shift a ratio needs (``density_shifts`` in its
``style.json``, :func:`expected_shift`), where the search of :func:`fit_density` starts, and
the search then draws the piece itself: regula falsi between the nearest draws on either side
of the ratio asked once it has both, secant steps on ``ln ratio`` until then, the draw nearest
the ratio winning. A chain can also jump between textures at some shift (the same song's
jazz went from 1.38 to 3.74 times the default between +1.7 and +2.8 nats, a step no shift
lands inside), so when the next shift is one already tried, give or take
:data:`SAME_SHIFT`, the search draws it again from another of the seed's streams.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from styletx.music.encoding import ONSET

DENSITY_RANGE = (0.5, 2.0)
"""The ``density`` values a transfer takes: half as busy as the style's default to twice."""
DENSITY_TOLERANCE = 0.07
"""A search stops once the onsets are within 7 % of the ratio asked."""
DENSITY_TRIES = 6
"""Most draws a search makes besides the default's: one draw of 8 bars is about ±10 % off its
neighbours' trend, so three left a quarter of the pieces beyond ±15 % (``docs/quality.md``)."""
MAX_SHIFT = 10.0
"""The largest onset shift, in nats either way, a search tries."""
SAME_SHIFT = 0.5
"""Shifts this close (nats) mostly draw the same texture (the jazz song above gave 1.32 times
the default at +1.46 and 1.34 at +1.63 from one stream): a search that comes back to one
draws it from the seed's next stream instead."""
MIN_SLOPE = 0.05
"""The smallest answer (``ln ratio`` per nat) a secant step assumes, so a flat stretch of the
chain's response sends the next try further out rather than to infinity."""


def expected_shift(density: float, table: Sequence[Sequence[float]]) -> float:
    """The shift the style's calibration (``[ratio, shift]`` pairs) gives ``density``,
    interpolated in ``ln density``; ``ln density`` without a table (the shift under which
    rare onsets follow their odds)."""
    if density == 1.0:
        return 0.0
    points = sorted((float(r), float(s)) for r, s in table)
    if not points:
        return math.log(density)
    ratios, shifts = zip(*points, strict=True)
    return float(np.interp(math.log(density), np.log(ratios), shifts))


@dataclass(frozen=True)
class DensityFit:
    """What a search found: the shift, the draw it gave and a line for the user."""

    shift: float
    window: np.ndarray
    note: str


def _next_shift(tried: list[tuple[float, float]], target: float) -> float:
    """The next shift to try from ``(shift, ln ratio)`` points (the default's ``(0, 0)`` among them)."""
    below = [p for p in tried if p[1] < target]
    above = [p for p in tried if p[1] > target]
    if below and above:
        (s0, r0), (s1, r1) = max(below, key=lambda p: p[1]), min(above, key=lambda p: p[1])
        return s0 + (target - r0) * (s1 - s0) / (r1 - r0)
    (s0, r0), (s1, r1) = sorted(tried, key=lambda p: abs(p[1] - target))[:2]
    slope = (r1 - r0) / (s1 - s0) if s1 != s0 else 0.0  # the chain's answer rises with the shift
    return s0 + (target - r0) / max(slope, MIN_SLOPE)


def fit_density(draw: Callable[[float, int], np.ndarray], density: float,
                table: Sequence[Sequence[float]] = ()) -> DensityFit:
    """The onset shift for ``density``, with the draw it gave: ``draw(shift, stream)`` samples the
    piece from stream ``stream`` of its seed (0: the default's; the same draw for the same
    arguments) and returns its window (``ONSET`` cells counted)."""
    base = int((draw(0.0, 0) == ONSET).sum())
    target = math.log(density)
    shift, stream = expected_shift(density, table), 0
    if not base:
        return DensityFit(shift, draw(shift, 0), f"density {density:g}: the default strikes no "
                          "accompaniment note here, so there is nothing to scale")
    tried: list[tuple[float, float, np.ndarray]] = []  # (shift, ln ratio, window)
    for _ in range(DENSITY_TRIES):
        window = draw(shift, stream)
        ratio = math.log(max(int((window == ONSET).sum()), 0.5) / base)
        tried.append((shift, ratio, window))
        if abs(math.exp(ratio - target) - 1) <= DENSITY_TOLERANCE:
            break
        points = [(0.0, 0.0), *((s, r) for s, r, _ in tried)]
        shift = float(np.clip(_next_shift(points, target), -MAX_SHIFT, MAX_SHIFT))
        if any(abs(shift - s) < SAME_SHIFT for s, _ in points):
            stream += 1
    best = min(tried, key=lambda t: abs(t[1] - target))
    note = (f"density {density:g}: {math.exp(best[1]):.2f} times the default's onsets (onset shift "
            f"{best[0]:+.2f} nats, {len(tried)} draw(s) besides the default's; the style's table "
            f"alone gave {math.exp(tried[0][1]):.2f})")
    return DensityFit(best[0], best[2], note)
