"""Algorithm 1 of Lu & Su (2018): resample the accompaniment, Gibbs-style, under a style model.

The state is the accompaniment roll in the model's pitch window. The melody and
metadata are inputs only: no code path here writes them.

Two schedules:

``"default"``
    *Parallel phase* (blocked Gibbs): ``sweeps`` sweeps. A sweep cuts the piece
    into blocks of ``ℓ`` frames at a random beat and redraws every other
    block in one pass, then the rest in a second pass, so half the frames
    (``α = 1/2``) change per pass and no two blocks of a pass touch. In a pass,
    one encoder pass reads the piece with the blocks hidden (the model was
    trained on such gaps), then the blocks are filled left to right, one frame
    position at a time for all blocks together, each frame pitch by pitch from
    low to high. Redrawing whole blocks matters: a single frame between fixed
    neighbours is nearly determined by them (a held note must continue), so
    frame-by-frame Gibbs barely moves an onset/hold roll. ``ℓ`` anneals from
    three beats to one and the temperature from 1.3× the given value down to
    it, so early sweeps rewrite rhythm and harmony and late ones settle.
    *Sequential phase*: a share of the frames (``sequential_share``), chosen
    at random, is resampled one frame at a time, each with a fresh encoder pass.
``"paper"``
    Lu & Su's published schedule as a baseline: 25 iterations, each visiting
    every frame once in random order; the first 60 % of updates run in
    parallel from a frozen copy that is refreshed once ``α·T`` frames changed,
    ``α`` falling linearly from 0.6 to 0; the rest run one frame at a time;
    every cell is the argmax (no temperature).

``strength`` (0..1) scales the work: each parallel sweep resamples a random
share ``strength`` of the frames, and the number of sweeps is scaled by it.
``strength = 0`` returns the input roll unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from styletx.model.network import UNKNOWN, StyleNet
from styletx.model.settings import DEFAULT_SETTINGS, HarmonyPrior, Progress, SamplerSettings
from styletx.music.chords import beat_starts, segment_starts
from styletx.music.grid import HOLD, META_CHORD, OFF, ONSET, repair_holds
from styletx.music.voicing import count_parallels, roll_slices


class _State:
    """Tensors of one piece and the encoder, with the write-protection of the melody."""

    def __init__(
        self, model: StyleNet, melody: np.ndarray, accomp: np.ndarray, meta: np.ndarray,
        prior: HarmonyPrior | None = None,
    ):
        self.model = model
        device = next(model.parameters()).device
        self.melody = torch.as_tensor(melody, dtype=torch.long, device=device)[None]
        self.meta = torch.as_tensor(meta, dtype=torch.long, device=device)[None]
        self.chords = self.meta[0, :, META_CHORD]
        self.prior = prior
        # where a chord segment starts (a half bar, or a chord change): the bass prior acts there
        starts = np.zeros(melody.shape[0], dtype=bool)
        starts[segment_starts(meta, model.cfg.steps_per_beat, "half_bar")] = True
        starts[1:] |= np.diff(meta[:, META_CHORD]) != 0
        self.segment_start = torch.as_tensor(starts, device=device)
        self.accomp = torch.as_tensor(accomp, dtype=torch.long, device=device)[None].clone()
        self.n_frames = int(melody.shape[0])
        self.zeros = torch.zeros(1, accomp.shape[1], dtype=torch.long, device=device)

    def encode(self, masked: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.encode(self.melody, self.accomp, self.meta,
                                 None if masked is None else masked[None])[0]

    def fill_blocks(
        self, blocks: list[np.ndarray], temperature: float, generator: torch.Generator
    ) -> None:
        """Redraw blocks of consecutive frames: hide them all, then fill left to right."""
        device = self.accomp.device
        masked = torch.zeros(self.n_frames + 1, dtype=torch.bool, device=device)
        for block in blocks:
            masked[torch.as_tensor(block, device=device)] = True
        cond = self.encode(masked[:-1])
        for j in range(max(len(b) for b in blocks)):
            frames = torch.as_tensor([int(b[j]) for b in blocks if len(b) > j], device=device)
            prev, nxt = self.neighbours(frames, self.accomp)
            later = masked[frames + 1][:, None]  # the next frame is drawn after this one
            nxt = torch.where(later, torch.full_like(nxt, UNKNOWN), nxt)
            self.accomp[0, frames] = self.model.sample_frames(
                cond[frames], self.melody[0, frames], self.chords[frames], prev, nxt,
                temperature=temperature, generator=generator, prior=self.prior,
                segment_start=self.segment_start[frames],
            )
            masked[frames] = False
        self._repair_after(torch.as_tensor([int(b[-1]) for b in blocks], device=device))

    def neighbours(self, frames: torch.Tensor, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Previous and next frames' cells (silence beyond the ends)."""
        padded = torch.cat([self.zeros, source[0], self.zeros])
        return padded[frames], padded[frames + 2]

    def resample(
        self,
        frames: torch.Tensor,
        temperature: float,
        generator: torch.Generator,
        greedy: bool,
        frozen: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        """Resample ``frames`` in one pass, from the current state or a frozen copy."""
        cond, source = frozen if frozen is not None else (self.encode(), self.accomp)
        prev, nxt = self.neighbours(frames, source)
        new = self.model.sample_frames(
            cond[frames], self.melody[0, frames], self.chords[frames], prev, nxt,
            temperature=temperature, generator=generator, greedy=greedy, prior=self.prior,
            segment_start=self.segment_start[frames],
        )
        self.accomp[0, frames] = new
        self._repair_after(frames)

    def _repair_after(self, frames: torch.Tensor) -> None:
        """A frame that fell silent can leave a hold in the frame after it: make it an onset."""
        after = frames + 1
        after = after[after < self.n_frames]
        nxt_cells = self.accomp[0, after]
        broken = (nxt_cells == HOLD) & (self.accomp[0, after - 1] == OFF)
        self.accomp[0, after] = torch.where(broken, torch.full_like(nxt_cells, ONSET), nxt_cells)


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


def blocks_for_sweep(
    candidates: np.ndarray, length: int, rng: np.random.Generator, keep: float, align: int = 1
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Tile the frames into blocks at a random offset; split them into two passes.

    The offset is a multiple of ``align`` frames (a beat), so block edges fall
    where notes usually start, not inside them. Blocks are cut to the frames that
    may change; with ``keep < 1`` each block is redrawn with that probability only.
    """
    offset = align * int(rng.integers(max(1, length // align)))
    tile = (candidates + offset) // length
    passes: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for index in np.unique(tile):
        block = candidates[tile == index]
        # keep consecutive runs only: a bar range can cut a block
        for run in np.split(block, np.nonzero(np.diff(block) > 1)[0] + 1):
            if run.size and (keep >= 1.0 or rng.random() < keep):
                passes[int(index) % 2].append(run)
    return passes


def count_updates(n_update: int, steps_per_beat: int, settings: SamplerSettings) -> int:
    """Generator calls the schedule will make (for progress bars)."""
    if settings.schedule == "paper":
        return settings.paper_iterations * n_update
    n_sweeps = max(1, math.ceil(settings.sweeps * settings.strength))
    block_calls = sum(2 * b * steps_per_beat for b in block_beats(n_sweeps))
    return block_calls + math.ceil(settings.sequential_share * n_update)


@torch.inference_mode()
def resample_accompaniment(
    model: StyleNet,
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
        window, ``[T, 4]`` metadata (:meth:`styletx.music.grid.Grid.meta`).
    update
        ``bool [T]``: frames that may change (a bar range); default all.
    settings
        Schedule, temperature, strength and seed.
    progress
        Called with ``(done, total)`` frame-group passes.

    Returns
    -------
    numpy.ndarray
        The new ``[T, P]`` roll (a valid roll: no hold after silence).
    """
    n_frames = melody.shape[0]
    update = np.ones(n_frames, dtype=bool) if update is None else update.astype(bool)
    if settings.strength == 0.0 or not update.any():
        return accomp.copy()
    seed = settings.seed if settings.seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    rng = np.random.default_rng(seed)
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    model.eval()
    state = _State(model, melody, repair_holds(accomp.copy()), meta, settings.prior)
    candidates = np.nonzero(update)[0]
    total = count_updates(len(candidates), model.cfg.steps_per_beat, settings)
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    if settings.schedule == "paper":
        _paper_schedule(state, candidates, settings, rng, generator, tick)
    else:
        _default_schedule(state, candidates, settings, rng, generator, tick)
    out = state.accomp[0].cpu().numpy().astype(np.uint8)
    out[~update] = accomp[~update]
    return repair_holds(out)


def _default_schedule(
    state: _State, candidates: np.ndarray, settings: SamplerSettings,
    rng: np.random.Generator, generator: torch.Generator, tick: Callable[[int], None],
) -> None:
    final_temperature = settings.temperature if settings.temperature is not None else 1.0
    n_sweeps = max(1, math.ceil(settings.sweeps * settings.strength))
    steps = state.model.cfg.steps_per_beat
    for k, beats in enumerate(block_beats(n_sweeps)):
        frac = k / max(1, n_sweeps - 1)
        temperature = final_temperature * (1.3 - 0.3 * frac)
        passes = blocks_for_sweep(candidates, beats * steps, rng, settings.strength, align=steps)
        for j in rng.permutation(2):
            if passes[j]:
                state.fill_blocks(passes[j], temperature, generator)
            tick(beats * steps)
    n_seq = math.ceil(settings.sequential_share * settings.strength * len(candidates))
    for t in rng.choice(candidates, size=min(n_seq, len(candidates)), replace=False):
        state.resample(torch.as_tensor([int(t)], device=state.accomp.device),
                       final_temperature, generator, greedy=False)
        tick(1)
    if settings.voice_leading_tries:
        _redraw_parallels(state, candidates, settings.voice_leading_tries, final_temperature, generator)


def _redraw_parallels(
    state: _State, candidates: np.ndarray, tries: int, temperature: float,
    generator: torch.Generator,
) -> None:
    """Redraw the beats that make parallel fifths or octaves, keeping a redraw only if it has fewer.

    A best-of-``tries`` voice-leading penalty: each round redraws every offending beat
    (beats two apart at most, so that each is judged against fixed neighbours) from the
    model, counts the parallels from the previous beat to the next one
    (:func:`styletx.music.voicing.count_parallels`), and keeps the new beat only where that
    count fell. The model's own choices are kept everywhere else.
    """
    steps = state.model.cfg.steps_per_beat
    lo = state.model.cfg.pitch_lo
    melody = state.melody[0].cpu().numpy()
    n = state.n_frames
    allowed = np.zeros(n, dtype=bool)
    allowed[candidates] = True
    starts = beat_starts(state.meta[0].cpu().numpy(), steps)
    bounds = np.append(starts, n)

    def local(roll: np.ndarray, b: int) -> int:
        a, z = bounds[max(b - 1, 0)], bounds[min(b + 2, len(starts))]
        return count_parallels(roll_slices(roll, melody, lo, int(a), int(z)))

    for _ in range(tries):
        roll = state.accomp[0].cpu().numpy()
        before = {b: local(roll, b) for b in range(len(starts)) if allowed[bounds[b]:bounds[b + 1]].all()}
        chosen: list[int] = []
        for b, count in before.items():
            if count and (not chosen or b - chosen[-1] >= 2):
                chosen.append(b)
        if not chosen:
            return
        saved = state.accomp.clone()
        state.fill_blocks([np.arange(bounds[b], bounds[b + 1]) for b in chosen], temperature, generator)
        new = state.accomp[0].cpu().numpy()
        for b in chosen:
            if local(new, b) >= before[b]:
                frames = slice(int(bounds[b]), int(min(bounds[b + 1] + 1, n)))
                state.accomp[0, frames] = saved[0, frames]


def _paper_schedule(
    state: _State, candidates: np.ndarray, settings: SamplerSettings,
    rng: np.random.Generator, generator: torch.Generator, tick: Callable[[int], None],
) -> None:
    n = len(candidates)
    total_updates = settings.paper_iterations * n
    parallel_until = int(0.6 * total_updates)
    done = 0
    for _ in range(settings.paper_iterations):
        order = rng.permutation(candidates)
        pos = 0
        while pos < n:
            alpha = 0.6 * (1 - done / parallel_until) if done < parallel_until else 0.0
            size = max(1, int(alpha * n))
            frames = np.sort(order[pos : pos + size])
            if size > 1:
                frozen = (state.encode(), state.accomp.clone())
                state.resample(torch.as_tensor(frames, device=state.accomp.device), 1.0,
                               generator, greedy=True, frozen=frozen)
            else:
                state.resample(torch.as_tensor(frames, device=state.accomp.device), 1.0,
                               generator, greedy=True)
            pos += len(frames)
            done += len(frames)
            tick(len(frames))
