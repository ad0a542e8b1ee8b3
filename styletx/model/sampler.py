"""Resample the accompaniment under a style model: Lu & Su's Algorithm 1, built from parts.

The state is the accompaniment roll in the model's pitch window; the melody and
metadata are inputs only, and no code path here writes them. As in Coconet's
``lib_sampling`` (a masker, a schedule and an inner sampler), three parts do the work
and :func:`resample_accompaniment` puts them together:

Masker (:class:`BlockMasker`)
    Which frames a step redraws. It holds the frames that may change at all (the
    caller's ``update`` frames, cut to the share ``strength`` of their beats) and
    offers only those: tiled into blocks at a random beat, as random single frames,
    or in a random visiting order.
Schedule (:class:`Schedule`; :data:`SCHEDULES` maps ``settings.schedule`` to one)
    The annealing plan, as a list of :class:`Step`: parallel block updates first,
    single-frame updates last.

    ``"default"`` (:class:`BlockedSchedule`)
        ``sweeps`` blocked-Gibbs sweeps. A sweep cuts the frames into blocks of
        ``ℓ`` frames at a random beat and redraws every other block in one pass,
        then the rest in a second pass, so half the frames change per pass and no
        two blocks of a pass touch. Redrawing whole blocks matters: a single frame
        between fixed neighbours is nearly determined by them (a held note must
        continue), so frame-by-frame Gibbs barely moves an onset/hold roll. ``ℓ``
        anneals from three beats to one and the temperature from 1.3× the given
        value down to it, so early sweeps rewrite rhythm and harmony and late ones
        settle. Then a share of the frames (``sequential_share``), chosen at random,
        is redrawn one frame at a time (frames too far apart to see each other in one
        pass, :func:`independent_groups`), and last the beats with parallel fifths or
        octaves are redrawn (``voice_leading_tries``).
    ``"paper"`` (:class:`PaperSchedule`)
        Lu & Su's published schedule as a baseline: ``paper_iterations`` iterations,
        each visiting every frame once in random order; the first 60 % of updates
        redraw groups of ``α·T`` frames in parallel, ``α`` falling linearly from 0.6
        to 0; the rest redraw one frame at a time; every cell is the argmax.
Inner sampler (:class:`InnerSampler`)
    Draws the frames a step names from the network (any
    :class:`~styletx.model.interface.FrameModel`), with the step's temperature and the
    style's harmony prior as a :class:`~styletx.model.interface.DrawPolicy`: a block is
    hidden from the encoder and filled left to right (one encoder pass over the piece per
    pass of blocks), a group of frames is redrawn in one pass from the current state with
    each frame's context read from :data:`CONTEXT_BEATS` beats either side (so a redraw
    costs the same in a long piece as in a short one), and the beats with parallels are
    redrawn best of ``voice_leading_tries``.

``strength`` means one thing: the share of the beats that may change. The masker
picks that many of the ``update`` frames' beats at random, once, and every step of
every schedule redraws only frames of those beats; the others keep the input's notes
(one held into a redrawn beat that falls silent is struck again after it).
``strength = 0`` returns the input roll unchanged, 1 lets every frame change. How
long the chain runs is ``sweeps`` (or ``paper_iterations``), not ``strength``.

One seed drives every draw: :meth:`SamplerSettings.seed_streams` spawns independent
streams for the masker (numpy) and the network (torch), and one for the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from styletx.model.clash import clash_onsets
from styletx.model.coverage import missing_tones
from styletx.model.interface import DrawPolicy, FrameModel, chord_flag_table, draw_policy, melody_parts
from styletx.model.settings import DEFAULT_SETTINGS, HarmonyPrior, Progress, SamplerSettings, ScheduleName
from styletx.music.chords import beat_starts, segment_starts
from styletx.music.encoding import HOLD, META_CHORD, N_CHORD_TOKENS, OFF, ONSET, UNKNOWN
from styletx.music.grid import repair_holds
from styletx.music.voicing import count_parallels, roll_slices

# --- the masker -------------------------------------------------------------------------


class BlockMasker:
    """Which frames each step redraws, always among ``frames``, with block edges on beats.

    Parameters
    ----------
    frames
        Sorted indices of the frames that may change; no method offers another.
    align
        Frames per beat: block edges fall where notes usually start, not inside them.
    """

    def __init__(self, frames: np.ndarray, align: int):
        self.frames = frames
        self.align = align

    @classmethod
    def choose(
        cls, update: np.ndarray, strength: float, beats: np.ndarray, align: int,
        rng: np.random.Generator,
    ) -> BlockMasker:
        """The ``update`` frames of a random share ``strength`` of their beats.

        ``beats`` are the frames that start a beat; the nearest whole number of beats
        is chosen (none at ``strength = 0``, all at 1, with no draw from ``rng``).
        """
        frames = np.flatnonzero(update)
        if strength < 1.0:
            beat = np.searchsorted(beats, frames, side="right")
            candidates = np.unique(beat)
            chosen = rng.choice(candidates, size=round(strength * len(candidates)), replace=False)
            frames = frames[np.isin(beat, chosen)]
        return cls(frames, align)

    def block_passes(
        self, length: int, rng: np.random.Generator
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Tile the frames into blocks of ``length`` at a random beat; split them into two passes.

        Blocks alternate between the passes, so no two blocks of a pass touch and
        each is redrawn against fixed neighbours. A block is cut to consecutive runs
        of the frames (a bar range or ``strength`` can cut it).
        """
        offset = self.align * int(rng.integers(max(1, length // self.align)))
        tile = (self.frames + offset) // length
        passes: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        for index in np.unique(tile):
            block = self.frames[tile == index]
            for run in np.split(block, np.nonzero(np.diff(block) > 1)[0] + 1):
                passes[int(index) % 2].append(run)
        return passes

    def single_frames(self, share: float, rng: np.random.Generator) -> np.ndarray:
        """A random share of the frames (rounded up), each once, in random order."""
        count = math.ceil(share * len(self.frames))
        return rng.choice(self.frames, size=min(count, len(self.frames)), replace=False)

    def visiting_order(self, rng: np.random.Generator) -> np.ndarray:
        """Every frame once, in random order (one iteration of Lu & Su)."""
        return rng.permutation(self.frames)


def independent_groups(order: np.ndarray, apart: int) -> list[np.ndarray]:
    """Cut a visiting order of frames into groups whose frames lie more than ``apart`` apart.

    Two frames closer than that stay in the order ``order`` gives them (the later one is
    in a later group), so redrawing group after group, each in one pass, is the
    frame-by-frame chain wherever a redraw reads no farther than ``apart``. In a long
    piece the groups grow, not their number.
    """
    if not len(order):
        return []
    level = np.full(int(order.max()) + 1, -1)
    for t in order:
        level[t] = level[max(int(t) - apart, 0) : int(t) + apart + 1].max() + 1
    chosen = level[order]
    return [np.sort(order[chosen == k]) for k in range(int(chosen.max()) + 1)]


# --- the inner sampler ------------------------------------------------------------------


CONTEXT_BEATS = 16
"""Beats either side of a frame that the encoder reads when a redraw asks for its context.

The encoder's useful context is bounded (``benchmarks/context_reach.py``, ``docs/speed.md``):
beyond 16 beats the full piece moves no cell's distribution by more than 0.01 in total
variation, for bach or jazz, while reading the whole piece for every redraw made a
render's cost grow with the square of its length.
"""

ENCODE_CHUNK = 2048
"""Most frames one encoder pass over the whole piece reads at once (128 bars of 4/4 in sixteenths)."""

MAX_DRAW = 256
"""Most frames one generator call draws at once: it bounds the per-pitch tensors of a long piece."""


class InnerSampler:
    """Draws frames of one piece from the network; holds the roll, never writes the melody.

    ``generator`` makes every draw reproducible; ``prior`` is the style's harmony prior
    on onsets (``None``: the network alone); ``onset_shift`` and ``pitches`` are the
    density and register controls (:func:`~styletx.model.interface.draw_policy`).
    ``redrawn`` and ``redraw_encoded`` count the frames :meth:`redraw` drew and the
    frames its encoder passes read.
    """

    def __init__(
        self, model: FrameModel, melody: np.ndarray, accomp: np.ndarray, meta: np.ndarray,
        prior: HarmonyPrior | None, generator: torch.Generator, onset_shift: float = 0.0,
        pitches: tuple[int, int] | None = None,
    ):
        self.model = model
        device = model.device
        self.melody = torch.as_tensor(melody, dtype=torch.long, device=device)[None]
        self.meta = torch.as_tensor(meta, dtype=torch.long, device=device)[None]
        self.chords = self.meta[0, :, META_CHORD]
        self.prior = prior
        self.generator = generator
        # where a chord segment starts (a half bar, or a chord change): the bass prior acts there
        starts = np.zeros(melody.shape[0], dtype=bool)
        starts[segment_starts(meta, model.cfg.steps_per_beat, "half_bar")] = True
        starts[1:] |= np.diff(meta[:, META_CHORD]) != 0
        self.segment_start = torch.as_tensor(starts, device=device)
        self.segment = torch.cumsum(self.segment_start.long(), 0) - 1  # frame 0 starts one
        self.pitches = torch.arange(model.cfg.pitch_lo, model.cfg.pitch_hi)
        self.chord_flags = chord_flag_table(self.pitches).to(device)
        self.pitches = self.pitches.to(device)
        self.onset_shift = onset_shift
        self.allowed = (None if pitches is None
                        else (self.pitches >= pitches[0]) & (self.pitches <= pitches[1]))
        self.accomp = torch.as_tensor(accomp, dtype=torch.long, device=device)[None].clone()
        self.n_frames = int(melody.shape[0])
        self.zeros = torch.zeros(1, accomp.shape[1], dtype=torch.long, device=device)
        self.reach = CONTEXT_BEATS * model.cfg.steps_per_beat
        self.redrawn = 0
        self.redraw_encoded = 0

    def roll(self) -> np.ndarray:
        """The current ``[T, P]`` roll."""
        return self.accomp[0].cpu().numpy().astype(np.uint8)

    def encode(self, masked: torch.Tensor) -> torch.Tensor:
        """Every frame's context ``[T, cond_dim]``, with the ``masked`` frames hidden.

        A piece longer than :data:`ENCODE_CHUNK` frames is read in chunks of that many,
        each with ``reach`` frames more either side, so the encoder's per-frame
        temporaries stay the size of a chunk however long the piece.
        """
        if self.n_frames <= ENCODE_CHUNK:
            return self.model.encode(self.melody, self.accomp, self.meta, masked[None])[0]
        parts = []
        for a in range(0, self.n_frames, ENCODE_CHUNK):
            lo, hi = max(a - self.reach, 0), min(a + ENCODE_CHUNK + self.reach, self.n_frames)
            cond = self.model.encode(self.melody[:, lo:hi], self.accomp[:, lo:hi], self.meta[:, lo:hi],
                                     masked[None, lo:hi])[0]
            parts.append(cond[a - lo : min(a + ENCODE_CHUNK, self.n_frames) - lo])
        return torch.cat(parts)

    def context(self, frames: np.ndarray) -> torch.Tensor:
        """The context ``[len(frames), cond_dim]`` of ``frames``, read from ``reach`` frames either side.

        Overlapping windows merge into one span; spans of one length are encoded as one
        batch. So the encoder reads at most ``2 reach + 1`` frames per frame, and never
        more than about the piece, whatever its length.
        """
        f = np.asarray(frames)
        lo = np.maximum(f - self.reach, 0)
        hi = np.minimum(f + self.reach + 1, self.n_frames)
        spans: list[list[int]] = []
        span_of = np.empty(len(f), dtype=np.int64)
        for i in np.argsort(f, kind="stable"):
            if spans and lo[i] < spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], int(hi[i]))
            else:
                spans.append([int(lo[i]), int(hi[i])])
            span_of[i] = len(spans) - 1
        start, lengths = np.array(spans)[:, 0], np.diff(spans, axis=1)[:, 0]
        device = self.accomp.device
        out = torch.empty(0)
        for length in np.unique(lengths):
            same = np.flatnonzero(lengths == length)
            index = torch.as_tensor(start[same][:, None] + np.arange(length), device=device)
            cond = self.model.encode(self.melody[0, index], self.accomp[0, index], self.meta[0, index])
            self.redraw_encoded += index.numel()
            if not out.numel():
                out = cond.new_empty(len(f), cond.shape[-1])
            mine = np.flatnonzero(np.isin(span_of, same))
            row = np.searchsorted(same, span_of[mine])
            at = torch.as_tensor(f[mine] - start[span_of[mine]], device=device)
            out[torch.as_tensor(mine, device=device)] = cond[torch.as_tensor(row, device=device), at]
        return out

    def fill_blocks(self, blocks: list[np.ndarray], temperature: float) -> None:
        """Redraw blocks of consecutive frames: hide them all, then fill left to right.

        One encoder pass reads the piece with the blocks hidden (the model was trained
        on such gaps); then one frame position at a time, for all blocks together, each
        frame is drawn pitch by pitch from low to high.
        """
        device = self.accomp.device
        masked = torch.zeros(self.n_frames + 1, dtype=torch.bool, device=device)
        for block in blocks:
            masked[torch.as_tensor(block, device=device)] = True
        cond = self.encode(masked[:-1])
        for j in range(max(len(b) for b in blocks)):
            frames = torch.as_tensor([int(b[j]) for b in blocks if len(b) > j], device=device)
            prev, nxt = self._neighbours(frames)
            later = masked[frames + 1][:, None]  # the next frame is drawn after this one
            nxt = torch.where(later, torch.full_like(nxt, UNKNOWN), nxt)
            self._draw(frames, cond[frames], prev, nxt, temperature)
            masked[frames] = False
        self._repair_after(torch.as_tensor([int(b[-1]) for b in blocks], device=device))

    def redraw(self, frames: np.ndarray, temperature: float | None) -> None:
        """Redraw ``frames`` in one pass from the current state; ``temperature=None``: argmax.

        Each frame's context is read from a window around it (:meth:`context`), so a
        redraw costs the same in a long piece as in a short one.
        """
        index = torch.as_tensor(frames, device=self.accomp.device)
        prev, nxt = self._neighbours(index)
        self._draw(index, self.context(frames), prev, nxt, temperature)
        self.redrawn += len(frames)
        self._repair_after(index)

    def fix_parallels(self, frames: np.ndarray, tries: int, temperature: float) -> None:
        """Redraw the beats that make parallel fifths or octaves, keeping a redraw only if it has fewer.

        A best-of-``tries`` voice-leading penalty: each round redraws every offending beat
        whose frames all lie in ``frames`` (beats two apart at most, so that each is judged
        against fixed neighbours), counts the parallels from the previous beat to the
        next one (:func:`styletx.music.voicing.count_parallels`), and keeps the new beat
        only where that count fell. The model's own choices are kept everywhere else.
        """
        steps = self.model.cfg.steps_per_beat
        lo = self.model.cfg.pitch_lo
        melody = self.melody[0].cpu().numpy()
        n = self.n_frames
        allowed = np.zeros(n, dtype=bool)
        allowed[frames] = True
        starts = beat_starts(self.meta[0].cpu().numpy(), steps)
        bounds = np.append(starts, n)

        def local(roll: np.ndarray, b: int) -> int:
            a, z = bounds[max(b - 1, 0)], bounds[min(b + 2, len(starts))]
            return count_parallels(roll_slices(roll, melody, lo, int(a), int(z)))

        for _ in range(tries):
            roll = self.accomp[0].cpu().numpy()
            before = {b: local(roll, b) for b in range(len(starts)) if allowed[bounds[b]:bounds[b + 1]].all()}
            chosen: list[int] = []
            for b, count in before.items():
                if count and (not chosen or b - chosen[-1] >= 2):
                    chosen.append(b)
            if not chosen:
                return
            saved = self.accomp.clone()
            self.fill_blocks([np.arange(bounds[b], bounds[b + 1]) for b in chosen], temperature)
            new = self.accomp[0].cpu().numpy()
            for b in chosen:
                if local(new, b) >= before[b]:
                    kept = slice(int(bounds[b]), int(min(bounds[b + 1] + 1, n)))
                    self.accomp[0, kept] = saved[0, kept]

    def _draw(
        self, frames: torch.Tensor, cond: torch.Tensor, prev: torch.Tensor, nxt: torch.Tensor,
        temperature: float | None,
    ) -> None:
        """Draw ``frames`` (their contexts ``cond``), at most :data:`MAX_DRAW` per generator call."""
        for a in range(0, len(frames), MAX_DRAW):
            part = slice(a, a + MAX_DRAW)
            f = frames[part]
            self.accomp[0, f] = self.model.sample_frames(
                cond[part], self.melody[0, f], self.chords[f], prev[part], nxt[part],
                self._policy(f, prev[part], temperature))[0]

    def _policy(self, frames: torch.Tensor, prev: torch.Tensor, temperature: float | None) -> DrawPolicy:
        """The draw's policy: the hold rule, the temperature and the style's prior on these frames."""
        if self.prior is None:
            return draw_policy(prev, temperature=temperature, generator=self.generator,
                               onset_shift=self.onset_shift, allowed=self.allowed)
        chords = self.chords[frames]
        kind, pitch = melody_parts(self.melody[0, frames])
        above = (kind > 0)[:, None] & (self.pitches[None, :] > pitch[:, None])
        clashing = (clash_onsets(self.pitches, self.melody[0, frames], chords, self.prior)
                    if self.prior.clash else None)
        missing = (missing_tones(frames, self.accomp[0], self.melody[0], self.segment, self.pitches)
                   if self.prior.complete else None)
        return draw_policy(
            prev, temperature=temperature, generator=self.generator, prior=self.prior,
            flags=self.chord_flags[chords.clamp(0, N_CHORD_TOKENS - 1)], has_chord=chords > 0,
            above=above, segment_start=self.segment_start[frames], clashing=clashing, missing=missing,
            onset_shift=self.onset_shift, allowed=self.allowed)

    def _neighbours(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Previous and next frames' cells (silence beyond the ends)."""
        roll = self.accomp[0]
        last = self.n_frames - 1
        prev = torch.where((frames > 0)[:, None], roll[(frames - 1).clamp(min=0)], self.zeros)
        nxt = torch.where((frames < last)[:, None], roll[(frames + 1).clamp(max=last)], self.zeros)
        return prev, nxt

    def _repair_after(self, frames: torch.Tensor) -> None:
        """A frame that fell silent can leave a hold in the frame after it: make it an onset."""
        after = frames + 1
        after = after[after < self.n_frames]
        nxt_cells = self.accomp[0, after]
        broken = (nxt_cells == HOLD) & (self.accomp[0, after - 1] == OFF)
        self.accomp[0, after] = torch.where(broken, torch.full_like(nxt_cells, ONSET), nxt_cells)


# --- the steps a schedule makes ---------------------------------------------------------


class Step(Protocol):
    """One step of a schedule: it tells the inner sampler what to redraw."""

    @property
    def cost(self) -> int:
        """Generator calls the step makes, for progress (0: not counted)."""

    def run(self, sampler: InnerSampler) -> None: ...


@dataclass(frozen=True)
class FillBlocks:
    """One blocked-Gibbs pass: hide ``blocks`` and refill them (:meth:`InnerSampler.fill_blocks`)."""

    blocks: list[np.ndarray]
    temperature: float
    cost: int

    def run(self, sampler: InnerSampler) -> None:
        if self.blocks:
            sampler.fill_blocks(self.blocks, self.temperature)


@dataclass(frozen=True)
class RedrawFrames:
    """Redraw ``frames`` in one parallel pass (:meth:`InnerSampler.redraw`); ``None``: argmax."""

    frames: np.ndarray
    temperature: float | None

    @property
    def cost(self) -> int:
        return len(self.frames)

    def run(self, sampler: InnerSampler) -> None:
        sampler.redraw(self.frames, self.temperature)


@dataclass(frozen=True)
class FixParallels:
    """Best-of-``tries`` redraws of the beats with parallels (:meth:`InnerSampler.fix_parallels`)."""

    frames: np.ndarray
    tries: int
    temperature: float
    cost: int = 0

    def run(self, sampler: InnerSampler) -> None:
        sampler.fix_parallels(self.frames, self.tries, self.temperature)


# --- the schedules ----------------------------------------------------------------------


class Schedule(Protocol):
    """An annealing plan: the steps of one run, drawing its random choices from the masker."""

    def steps(self, masker: BlockMasker, rng: np.random.Generator) -> Iterator[Step]: ...


MAX_BLOCK = 3
"""Longest block, in beats, of the first sweep (the model was trained on gaps up to 8 beats)."""


def block_beats(sweeps: int) -> list[int]:
    """Block length per sweep, in beats: anneals from 3 beats to 1.

    A pass costs one generator call per frame position in a block, so the block
    length, not the piece length, sets the time of a sweep.
    """
    if sweeps == 1:
        return [2]
    return [max(1, round(MAX_BLOCK ** (1 - k / (sweeps - 1)))) for k in range(sweeps)]


@dataclass(frozen=True)
class BlockedSchedule:
    """The default: blocked-Gibbs sweeps with shrinking blocks, then single frames, then voice leading."""

    sweeps: int
    temperature: float
    sequential_share: float
    voice_leading_tries: int

    @classmethod
    def from_settings(cls, settings: SamplerSettings) -> BlockedSchedule:
        return cls(
            sweeps=settings.sweeps,
            temperature=1.0 if settings.temperature is None else settings.temperature,
            sequential_share=settings.sequential_share,
            voice_leading_tries=settings.voice_leading_tries or 0,
        )

    def steps(self, masker: BlockMasker, rng: np.random.Generator) -> Iterator[Step]:
        for k, beats in enumerate(block_beats(self.sweeps)):
            temperature = self.temperature * (1.3 - 0.3 * (k / max(1, self.sweeps - 1)))
            length = beats * masker.align
            passes = masker.block_passes(length, rng)
            for j in rng.permutation(2):
                yield FillBlocks(passes[j], temperature, cost=length)
        # frames farther apart than a redraw reads (its context window, the repair of the
        # frame after it) do not see each other: each group of them is one pass
        apart = CONTEXT_BEATS * masker.align + 1
        for group in independent_groups(masker.single_frames(self.sequential_share, rng), apart):
            yield RedrawFrames(group, self.temperature)
        if self.voice_leading_tries:
            yield FixParallels(masker.frames, self.voice_leading_tries, self.temperature)


@dataclass(frozen=True)
class PaperSchedule:
    """Lu & Su's Algorithm 1: shrinking parallel groups, then one frame at a time, all argmax."""

    iterations: int

    @classmethod
    def from_settings(cls, settings: SamplerSettings) -> PaperSchedule:
        return cls(iterations=settings.paper_iterations)

    def steps(self, masker: BlockMasker, rng: np.random.Generator) -> Iterator[Step]:
        n = len(masker.frames)
        parallel_until = int(0.6 * self.iterations * n)
        done = 0
        for _ in range(self.iterations):
            order = masker.visiting_order(rng)
            pos = 0
            while pos < n:
                alpha = 0.6 * (1 - done / parallel_until) if done < parallel_until else 0.0
                group = np.sort(order[pos : pos + max(1, int(alpha * n))])
                yield RedrawFrames(group, None)
                pos += len(group)
                done += len(group)


SCHEDULES: dict[ScheduleName, Callable[[SamplerSettings], Schedule]] = {
    "default": BlockedSchedule.from_settings,
    "paper": PaperSchedule.from_settings,
}
"""The schedule each value of ``SamplerSettings.schedule`` selects."""


# --- the sampler ------------------------------------------------------------------------


def random_generators(
    settings: SamplerSettings, device: torch.device
) -> tuple[np.random.Generator, torch.Generator]:
    """The masker's numpy generator and the network's torch generator, from the settings' seed."""
    streams = settings.seed_streams()
    network_seed = int(streams.network.generate_state(1, np.uint64)[0])
    return np.random.default_rng(streams.masker), torch.Generator(device=device).manual_seed(network_seed)


@torch.inference_mode()
def resample_accompaniment(
    model: FrameModel,
    melody: np.ndarray,
    accomp: np.ndarray,
    meta: np.ndarray,
    update: np.ndarray | None = None,
    settings: SamplerSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
) -> np.ndarray:
    """Resample accompaniment frames under ``model``; the melody is read, never written.

    Parameters
    ----------
    melody, accomp, meta
        ``[T]`` melody tokens, ``[T, P]`` starting roll in the model's pitch
        window (:mod:`styletx.model.start`), ``[T, N_META]`` metadata
        (:meth:`styletx.music.grid.Grid.meta`).
    update
        ``bool [T]``: frames that may change (a bar range); default all.
    settings
        Schedule, temperature, strength, sweeps, seed, prior (see :class:`SamplerSettings`).
    progress
        Called with ``(done, total)`` generator calls after each step.

    Returns
    -------
    numpy.ndarray
        The new ``[T, P]`` roll (a valid roll: no hold after silence).
    """
    update = np.ones(melody.shape[0], dtype=bool) if update is None else update.astype(bool)
    rng, generator = random_generators(settings, model.device)
    steps_per_beat = model.cfg.steps_per_beat
    masker = BlockMasker.choose(update, settings.strength, beat_starts(meta, steps_per_beat),
                                steps_per_beat, rng)
    if not masker.frames.size:
        return accomp.copy()
    model.eval()
    sampler = InnerSampler(model, melody, repair_holds(accomp.copy()), meta, settings.prior, generator,
                           settings.onset_shift, settings.pitches)
    steps = list(SCHEDULES[settings.schedule](settings).steps(masker, rng))
    total = sum(step.cost for step in steps)
    done = 0
    for step in steps:
        step.run(sampler)
        done += step.cost
        if progress is not None:
            progress(done, total)
    out = sampler.roll()
    out[~update] = accomp[~update]
    return repair_holds(out)
