"""The performance layer: how a style plays the grid notes the model writes (issue #20).

The model's roll holds only off, onset and hold, so every note it writes sits on the grid
at one velocity. A :class:`Feel` is fitted from a style's own MIDI renderings and gives each
accompaniment onset a velocity, a timing offset (in quarter beats) and a played length,
each drawn from a conditional table with back-off (:class:`Table`): the quantiles of what
the data did in the same context, the finest context with at least :data:`MIN_COUNT`
notes first. The context of a note (:func:`contexts`) is its role (bass, the lowest line as
:func:`~styletx.music.arrange.bass_line` finds it, or comping), its place in its chord (top,
inner, bottom), its step in the bar and the beat, its bar in the four-bar group, the melody
there (rest, held, onset), and for timing its rank from the bottom of its chord and the
chord's size: a strum is each rank's offset after the chord's earliest note (up or down),
drawn with one random number per chord so that the spread stays in order.

Velocities follow the melody: a note's velocity is the smoothed melody velocity at its
onset (:func:`melody_level`) plus the data's deviation from it, so a crescendo in the tune
lifts the accompaniment and the accompaniment sits :attr:`Feel.gap` under it (or the
``balance`` asked). A feel with empty tables (:meth:`Feel.even`: the chorales, whose data
have no velocities) keeps even dynamics that still follow the melody.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from styletx.music.arrange import bass_line
from styletx.music.encoding import MELODY_HOLD, MELODY_REST
from styletx.music.grid import Grid, tick_to_frame
from styletx.music.song import Note, Track

N_QUANTILES = 33
"""Quantile points stored per table cell (0, 1/32, ..., 1): enough to keep spikes of 3 % exact."""
MIN_COUNT = 20
"""A context with fewer data notes than this is left to a coarser one."""
GROUP_BARS = 4
RANK_CAP = 4  # ranks 0..3 in a chord, and 4 for "fifth note or higher"
SIZE_CAP = 6
SMOOTH_BEATS = 2.0
"""Width (standard deviation, quarter beats) of the melody velocity curve's smoothing."""
MAX_LENGTH_RATIO = 1.5
STRUM_STEPS = 0.5
"""Widest strum, in grid steps: the notes a strum spreads further apart than half a step are
two onsets the grid would keep apart, not one chord (MMA's folk guitar spreads a chord over
0.08-0.125 beat, half a step of its 4-step beat; its pop keeps most chords within 0.03)."""
GAP_SLACK = 2
"""How far (MIDI velocity) the model's mix of contexts may move a ``balance`` asked before it is corrected."""

BASS, COMP = 0, 1
TOP, INNER, BOTTOM = 0, 1, 2
REST, HELD, ONSET = 0, 1, 2

FEATURES = ("role", "place", "bar_step", "beat_step", "group", "mel", "rank", "size", "glen")

VELOCITY_LEVELS = (("role", "place", "bar_step", "group", "mel"), ("role", "place", "bar_step", "mel"),
                   ("role", "place", "bar_step"), ("role", "bar_step"), ("role",), ())
OFFSET_LEVELS = (("role", "bar_step", "mel"), ("role", "bar_step"), ("role", "beat_step"), ("role",), ())
SPREAD_LEVELS = (("rank", "size"), ("rank",), ())
LENGTH_LEVELS = (("role", "glen", "bar_step"), ("role", "glen"), ("role",), ())


@dataclass
class Table:
    """A conditional distribution with back-off: per level (a tuple of feature names, finest
    first), the quantiles of the value in each context that had at least :data:`MIN_COUNT` notes."""

    levels: tuple[tuple[str, ...], ...]
    cells: list[dict[str, list[float]]] = field(default_factory=list)

    @classmethod
    def fit(cls, levels: Sequence[tuple[str, ...]], ctx: dict[str, np.ndarray], values: np.ndarray,
            digits: int) -> Table:
        q = np.linspace(0.0, 1.0, N_QUANTILES)
        cells: list[dict[str, list[float]]] = []
        for level in levels:
            codes = _codes(ctx, level, len(values))
            found: dict[str, list[float]] = {}
            for code in np.unique(codes):
                v = values[codes == code]
                if len(v) >= MIN_COUNT:
                    found[_spelled(int(code), len(level))] = [
                        round(float(x), digits) for x in np.quantile(v, q, method="inverted_cdf")]
            cells.append(found)
        return cls(tuple(tuple(lv) for lv in levels), cells)

    @property
    def empty(self) -> bool:
        return not any(self.cells)

    def quantiles(self, ctx: dict[str, np.ndarray]) -> np.ndarray | None:
        """``[N, N_QUANTILES]``: each note's finest fitted context; ``None`` for an empty table."""
        if self.empty:
            return None
        n = len(next(iter(ctx.values())))
        out = np.zeros((n, N_QUANTILES))
        todo = np.ones(n, dtype=bool)
        for level, cells in zip(self.levels, self.cells, strict=True):
            if not cells or not todo.any():
                continue
            rows = np.nonzero(todo)[0]
            uniq, inverse = np.unique(_codes({k: ctx[k][rows] for k in level}, level, len(rows)),
                                      return_inverse=True)
            found = [cells.get(_spelled(int(code), len(level))) for code in uniq]
            hit = np.array([f is not None for f in found])[inverse]
            if hit.any():
                table = np.array([f if f is not None else [0.0] * N_QUANTILES for f in found])
                out[rows[hit]] = table[inverse[hit]]
                todo[rows[hit]] = False
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"levels": [list(lv) for lv in self.levels], "cells": self.cells}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Table:
        return cls(tuple(tuple(lv) for lv in d["levels"]), [dict(c) for c in d["cells"]])

    def merged(self, over: Table) -> Table:
        """This table with ``over``'s cells in place of its own where ``over`` has them."""
        return Table(self.levels, [{**mine, **theirs} for mine, theirs in zip(self.cells, over.cells,
                                                                            strict=True)])


RADIX = 1 << 12
"""Each context feature is below this (a bar step on a 12-step grid of a 15-beat bar is 180)."""


def _codes(ctx: dict[str, np.ndarray], level: Sequence[str], n: int) -> np.ndarray:
    """One integer per note for its context at ``level`` (the features in base :data:`RADIX`)."""
    code = np.zeros(n, dtype=np.int64)
    for name in level:
        code = code * RADIX + ctx[name].astype(np.int64).clip(0, RADIX - 1)
    return code


def _spelled(code: int, width: int) -> str:
    """A context code as the file spells it: the features' values, comma-separated."""
    digits = []
    for _ in range(width):
        code, d = divmod(code, RADIX)
        digits.append(str(d))
    return ",".join(reversed(digits))


def _draw(quantiles: np.ndarray | None, u: np.ndarray, default: float) -> np.ndarray:
    """The stored point nearest random quantile ``u`` of each row: one of the data's own values.

    The points are the data's values (``inverted_cdf``), so the draw keeps them exact: MMA plays
    a few exact velocities (pop's comping is 51, 57, 73 or 95), and a value interpolated
    between two of them would be one the style never plays. The end points, each standing
    for half a step of probability, come up half as often as the inner ones.
    """
    if quantiles is None:
        return np.full(len(u), default)
    index = np.rint(u * (N_QUANTILES - 1)).astype(int).clip(0, N_QUANTILES - 1)
    return quantiles[np.arange(len(u)), index]


@dataclass
class Feel:
    """A style's performance: conditional tables of velocity, timing and length, and its balance.

    ``velocity`` holds the deviation of a note's velocity from the smoothed melody velocity
    there; ``offset`` the onset's offset from the grid in quarter beats (bass notes, and a
    chord's earliest note); ``spread`` each chord note's offset after the earliest, by its rank
    (the strum); ``length`` the played length over the grid length. ``gap`` is how far the
    data's accompaniment sits under its melody, in MIDI velocity, the default balance.
    """

    steps_per_beat: int
    gap: float = 0.0
    velocity: Table = field(default_factory=lambda: Table(VELOCITY_LEVELS, [{}] * len(VELOCITY_LEVELS)))
    offset: Table = field(default_factory=lambda: Table(OFFSET_LEVELS, [{}] * len(OFFSET_LEVELS)))
    spread: Table = field(default_factory=lambda: Table(SPREAD_LEVELS, [{}] * len(SPREAD_LEVELS)))
    length: Table = field(default_factory=lambda: Table(LENGTH_LEVELS, [{}] * len(LENGTH_LEVELS)))
    notes: int = 0
    source: str = ""

    @classmethod
    def even(cls, steps_per_beat: int, gap: float = 0.0, source: str = "") -> Feel:
        """No tables: every note on the grid at the melody's smoothed velocity minus ``gap``."""
        return cls(steps_per_beat=steps_per_beat, gap=gap, source=source)

    @property
    def is_even(self) -> bool:
        return all(t.empty for t in (self.velocity, self.offset, self.spread, self.length))

    def to_dict(self) -> dict[str, Any]:
        return {"steps_per_beat": self.steps_per_beat, "gap": round(self.gap, 3), "notes": self.notes,
                "source": self.source, **{name: getattr(self, name).to_dict()
                                          for name in ("velocity", "offset", "spread", "length")}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Feel:
        tables = {name: Table.from_dict(d[name]) for name in ("velocity", "offset", "spread", "length")}
        return cls(steps_per_beat=int(d["steps_per_beat"]), gap=float(d["gap"]),
                   notes=int(d.get("notes", 0)), source=str(d.get("source", "")), **tables)

    def adapted(self, own: Feel) -> Feel:
        """This feel with ``own``'s contexts (fitted on a user's files) where they have at least
        :data:`MIN_COUNT` notes, and ``own``'s gap when it was fitted on that many; ``own``
        alone when the two feels are on different grids."""
        if own.steps_per_beat != self.steps_per_beat:
            return own
        return replace(self, gap=own.gap if own.notes >= MIN_COUNT else self.gap,
                       notes=self.notes + own.notes, source=f"{own.source}, over {self.source}",
                       **{name: getattr(self, name).merged(getattr(own, name))
                          for name in ("velocity", "offset", "spread", "length")})

    def summary(self) -> str:
        """One line for the model card."""
        if self.is_even:
            return (f"even dynamics on the grid, {self.gap:.1f} velocity under the melody's smoothed "
                    f"velocity ({self.source or 'no data'})")
        cells = sum(len(c) for t in (self.velocity, self.offset, self.spread, self.length) for c in t.cells)
        return (f"learned from {self.notes} accompaniment notes ({self.source}): {cells} contexts; "
                f"the accompaniment sits {self.gap:.1f} velocity under the melody")


# ------------------------------------------------------------------ contexts


def contexts(notes: Sequence[Note], grid: Grid, steps_per_beat: int, bass_max_pitch: int,
             ) -> dict[str, np.ndarray]:
    """Each grid note's context (the columns of :data:`FEATURES`), on a feel's ``steps_per_beat``.

    ``notes`` are on ``grid`` (as the model writes them, or a data file's notes quantised to
    it); positions are read on the feel's own grid, so a feel fits a style of another grid.
    Also returns ``chord``: the start frame of each note's chord, ``-1`` for bass notes.
    """
    n = len(notes)
    res, spb = grid.resolution, grid.steps_per_beat
    start = np.rint(np.array([x.start for x in notes], dtype=np.float64) * spb / res).astype(np.int64)
    end = np.rint(np.array([x.end for x in notes], dtype=np.float64) * spb / res).astype(np.int64)
    pitch = np.array([x.pitch for x in notes], dtype=np.int64)
    f = start.clip(0, max(grid.n_frames - 1, 0))
    role = np.full(n, COMP)
    role[list(bass_line(list(notes), bass_max_pitch))] = BASS
    bar_step = np.rint(grid.bar_step[f] * steps_per_beat / spb).astype(np.int64) if n else f
    mel_tok = grid.melody[f] if n else f
    mel = np.where(mel_tok == MELODY_REST, REST, np.where(mel_tok < MELODY_HOLD, ONSET, HELD))
    rank = np.zeros(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    chord = np.where(role == BASS, -1, start)
    comp = np.nonzero(role == COMP)[0]
    order = comp[np.lexsort((pitch[comp], start[comp]))]
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and start[order[j]] == start[order[i]]:
            j += 1
        rank[order[i:j]] = np.arange(j - i)
        size[order[i:j]] = j - i
        i = j
    place = np.where(role == BASS, BOTTOM,
                     np.where(rank == size - 1, TOP, np.where(rank == 0, BOTTOM, INNER)))
    glen = np.floor(np.log2(np.maximum(end - start, 1) * steps_per_beat / spb + 1e-9)).clip(0, 5)
    return {
        "role": role, "place": place, "bar_step": bar_step, "beat_step": bar_step % steps_per_beat,
        "group": grid.bar_index[f] % GROUP_BARS if n else f, "mel": mel,
        "rank": rank.clip(0, RANK_CAP), "size": size.clip(1, SIZE_CAP), "glen": glen.astype(np.int64),
        "chord": chord,
    }


def melody_level(melody: Sequence[Note], ticks: np.ndarray, resolution: int) -> np.ndarray:
    """The melody's velocity, smoothed over :data:`SMOOTH_BEATS`, at each of ``ticks``.

    Onset velocities are summed per beat and smoothed with a Gaussian; where no melody note
    is near, the level runs straight between the nearest beats that have one (80 for no melody at all).
    """
    ticks = np.asarray(ticks, dtype=np.float64)
    if not melody:
        return np.full(len(ticks), 80.0)
    beat_of = np.array([n.start for n in melody], dtype=np.float64) / resolution
    n_beats = int(max(beat_of.max(), ticks.max() / resolution if len(ticks) else 0)) + 2
    vel = np.zeros(n_beats)
    cnt = np.zeros(n_beats)
    np.add.at(vel, beat_of.astype(int), [n.velocity for n in melody])
    np.add.at(cnt, beat_of.astype(int), 1.0)
    radius = int(3 * SMOOTH_BEATS)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / SMOOTH_BEATS) ** 2)
    sv, sc = np.convolve(vel, kernel, "same"), np.convolve(cnt, kernel, "same")
    have = np.nonzero(sc > 1e-6)[0]
    level = np.interp(np.arange(n_beats), have, sv[have] / sc[have])
    return np.interp(ticks / resolution, np.arange(n_beats) + 0.5, level)


# ------------------------------------------------------------------ fitting


@dataclass
class Observations:
    """What a feel is fitted on: the contexts of data notes and what was played there."""

    ctx: dict[str, list[np.ndarray]] = field(default_factory=dict)
    deviation: list[np.ndarray] = field(default_factory=list)  # velocity minus the melody level
    offset: list[np.ndarray] = field(default_factory=list)  # beats from the grid
    spread: list[np.ndarray] = field(default_factory=list)  # beats after the chord's earliest note
    ratio: list[np.ndarray] = field(default_factory=list)  # played length / grid length
    gap: list[np.ndarray] = field(default_factory=list)  # melody level minus velocity

    def add(self, melody: Track, accompaniment: Iterable[Track], grid: Grid, steps_per_beat: int,
            bass_max_pitch: int) -> None:
        """Add one data piece, whose melody and accompaniment are as played and ``grid`` its grid."""
        played = sorted(n for t in accompaniment for n in t.notes)
        if not played:
            return
        res, spb = grid.resolution, grid.steps_per_beat
        tpf = res / spb
        on_grid = [Note(round(tick_to_frame(n.start, res, spb) * tpf),
                        round(max(tick_to_frame(n.end, res, spb), tick_to_frame(n.start, res, spb) + 1)
                              * tpf), n.pitch, n.velocity) for n in played]
        ctx = contexts(on_grid, grid, steps_per_beat, bass_max_pitch)
        start = np.array([n.start for n in played], dtype=np.float64)
        gstart = np.array([n.start for n in on_grid], dtype=np.float64)
        offset = (start - gstart) / res
        level = melody_level(melody.notes, start, res)
        vel = np.array([n.velocity for n in played], dtype=np.float64)
        # a strum rises (or falls) with the rank within :data:`STRUM_STEPS`: its spread is each
        # note's offset after the chord's earliest note, and the chord's offset that note's, so a
        # falling strum's late lowest note and early top stay where the data put them. A chord
        # whose parts keep their own timings (an arpeggio beside a pad, notes the grid merged)
        # is no strum: it follows its lowest note, with no spread.
        spread = np.zeros(len(played))
        widest = STRUM_STEPS / spb + 1e-9
        for c in np.unique(ctx["chord"][ctx["chord"] >= 0]):
            members = np.nonzero(ctx["chord"] == c)[0]
            by_rank = members[np.argsort(ctx["rank"][members], kind="stable")]
            steps = np.diff(offset[by_rank])
            if ((steps >= 0).all() or (steps <= 0).all()) and np.ptp(offset[members]) <= widest:
                spread[by_rank] = offset[by_rank] - offset[by_rank].min()
                offset[by_rank[0]] = offset[by_rank].min()
        ratio = np.array([(p.end - p.start) / max(g.end - g.start, 1) for p, g in zip(played, on_grid,
                                                                                       strict=True)])
        for name in FEATURES:
            self.ctx.setdefault(name, []).append(ctx[name])
        self.deviation.append(vel - level)
        self.offset.append(offset)
        self.spread.append(spread)
        self.ratio.append(ratio.clip(0.0, MAX_LENGTH_RATIO))
        self.gap.append(level - vel)

    def fit(self, steps_per_beat: int, source: str) -> Feel:
        """The :class:`Feel` of everything added (an even one when nothing was)."""
        if not self.deviation:
            return Feel.even(steps_per_beat, source=source)
        ctx = {k: np.concatenate(v) for k, v in self.ctx.items()}
        dev, off, spread, ratio = (np.concatenate(x) for x in (self.deviation, self.offset, self.spread,
                                                               self.ratio))
        base = (ctx["role"] == BASS) | (ctx["rank"] == 0)
        comp = ctx["role"] == COMP
        sub = {k: v[base] for k, v in ctx.items()}
        sub_comp = {k: v[comp] for k, v in ctx.items()}
        gap = float(np.concatenate(self.gap).mean())
        feel = Feel(
            steps_per_beat=steps_per_beat, gap=gap,
            velocity=Table.fit(VELOCITY_LEVELS, ctx, dev, 2),
            offset=Table.fit(OFFSET_LEVELS, sub, off[base], 4),
            spread=Table.fit(SPREAD_LEVELS, sub_comp, spread[comp], 4),
            length=Table.fit(LENGTH_LEVELS, ctx, ratio, 3),
            notes=len(dev), source=source,
        )
        return _without_constant(feel)


def _without_constant(feel: Feel) -> Feel:
    """Drop a table whose every cell is one value that changes nothing (deviation 0 is kept as
    the even feel's), so data with no velocities or timing (the chorales) fit an even feel."""
    def flat(t: Table, neutral: float) -> bool:
        return all(all(abs(x - neutral) < 1e-9 for x in row) for c in t.cells for row in c.values())

    tables = {}
    for name, neutral in (("velocity", 0.0), ("offset", 0.0), ("spread", 0.0), ("length", 1.0)):
        t = getattr(feel, name)
        tables[name] = Table(t.levels, [{} for _ in t.cells]) if flat(t, neutral) else t
    return replace(feel, **tables)


# ------------------------------------------------------------------ applying


def perform(tracks: Sequence[Track], grid: Grid, melody: Track, feel: Feel, rng: np.random.Generator,
            *, bass_max_pitch: int, balance: float | None = None) -> tuple[list[Track], list[Track]]:
    """Play the grid tracks ``tracks`` with ``feel``: ``(on the grid with velocities, as played)``.

    The first list is for notation (grid timing, the new velocities); the second adds the
    timing offsets and played lengths, for MIDI and audio. The velocities follow the melody's
    level, each note's context sitting as far under it as in the data (the feel's gap on the
    data's mix of contexts); with ``balance`` (MIDI velocity units) their mean sits that far
    under it. The melody is read, never changed.
    """
    owner = [(k, j) for k, t in enumerate(tracks) for j in range(len(t.notes))]
    notes = [tracks[k].notes[j] for k, j in owner]
    if not notes:
        return list(tracks), list(tracks)
    ctx = contexts(notes, grid, feel.steps_per_beat, bass_max_pitch)
    n = len(notes)
    res = grid.resolution
    start = np.array([x.start for x in notes], dtype=np.int64)
    length = np.array([x.end - x.start for x in notes], dtype=np.int64)
    # One draw per place in the bar for the offset of a chord's earliest note (or a bass
    # note's) and one for the strum after it, shared by every bar: a style's push, lay-back and
    # strum repeat from bar to bar, as a player's (and MMA's patterns) do, so the groove stays
    # one groove. A chord's notes share their place, so a chord is still drawn once.
    chord = ctx["chord"]
    places, inverse = np.unique(ctx["bar_step"], return_inverse=True)
    u_chord, u_strum = rng.random(len(places))[inverse], rng.random(len(places))[inverse]
    # The drawn deviations keep the data's exact velocities, moved only by whole numbers: by the
    # melody's level, and, for a ``balance`` asked, to that gap and back by what the model's mix
    # of contexts moved the mean beyond :data:`GAP_SLACK` (MMA's velocities are a few exact
    # values; a shift of one would miss them). The default keeps each context's own velocities,
    # so its gap is the data's as far as the model's mix of contexts is the data's.
    dev = _draw(feel.velocity.quantiles(ctx), rng.random(n), -feel.gap)
    shift = 0
    if balance is not None:
        drift = dev.mean() + feel.gap
        shift = round(feel.gap - float(balance)) - np.sign(drift) * max(0, round(abs(drift)) - GAP_SLACK)
    velocity = melody_level(melody.notes, start, res) + dev + shift
    velocity = np.rint(velocity).clip(1, 127).astype(int)
    offset = _draw(feel.offset.quantiles(ctx), u_chord, 0.0)
    base = (ctx["role"] == BASS) | (ctx["rank"] == 0)
    comp = ctx["role"] == COMP
    spread = np.where(comp, _draw(feel.spread.quantiles(ctx), u_strum, 0.0), 0.0)
    earliest = {int(c): offset[i] for i, c in enumerate(chord) if c >= 0 and base[i]}
    offset = np.where(comp, [earliest.get(int(c), 0.0) for c in chord], offset) + spread
    ratio = _draw(feel.length.quantiles(ctx), rng.random(n), 1.0)
    new_start = np.maximum(start + np.rint(offset * res).astype(np.int64), 0)
    new_len = np.maximum(np.rint(length * ratio).astype(np.int64), 1)
    scored: list[list[Note]] = [[] for _ in tracks]
    played: list[list[Note]] = [[] for _ in tracks]
    for i, (k, _) in enumerate(owner):
        x = notes[i]
        scored[k].append(Note(x.start, x.end, x.pitch, int(velocity[i])))
        played[k].append(Note(int(new_start[i]), int(new_start[i] + new_len[i]), x.pitch, int(velocity[i])))
    return ([replace(t, notes=sorted(s, key=_order)) for t, s in zip(tracks, scored, strict=True)],
            [replace(t, notes=_no_overlaps(p)) for t, p in zip(tracks, played, strict=True)])


def _order(note: Note) -> tuple[int, int, int, int]:
    """A note's sort key: the order of :class:`Note` itself, without its slow comparisons."""
    return note.start, note.end, note.pitch, note.velocity


def _no_overlaps(notes: list[Note]) -> list[Note]:
    """Notes in time order, each cut where the next note of its pitch starts (at least one tick)."""
    by_pitch = sorted(notes, key=lambda x: (x.pitch, x.start))
    out: list[Note] = []
    for a, b in zip(by_pitch, [*by_pitch[1:], None], strict=True):
        if b is not None and b.pitch == a.pitch and b.start < a.end:
            a = Note(a.start, max(b.start, a.start + 1), a.pitch, a.velocity)
        out.append(a)
    return sorted(out, key=_order)
