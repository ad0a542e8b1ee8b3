"""The sampler's parts one by one: the masker, the schedules, the inner sampler, the start.

The whole transfer is tested in ``test_transfer.py``; here each part is held to what its
docstring promises, on small grids and the tiny untrained style.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
import torch

from styletx.io.reader import read_midi
from styletx.model.config import ModelConfig
from styletx.model.interface import DrawPolicy, FrameModel, choose, chord_flag_table
from styletx.model.lockstep import resample_many
from styletx.model.sampler import (
    SCHEDULES,
    BlockedSchedule,
    BlockMasker,
    FillBlocks,
    FixParallels,
    InnerSampler,
    PaperSchedule,
    RedrawFrames,
    block_beats,
    independent_groups,
    resample_accompaniment,
)
from styletx.model.settings import SamplerSettings, ScheduleName, SeedStreams
from styletx.model.start import block_chords, starting_roll
from styletx.music.arrange import fold_into_range
from styletx.music.chords import Chord, beat_starts
from styletx.music.encoding import META_CHORD, OFF, ONSET
from styletx.music.grid import Grid, build_grid
from styletx.music.parts import select_parts
from styletx.styles import Style, load_style

SAMPLES = Path(__file__).parent.parent / "midi_samples"
FIXTURES = Path(__file__).parent / "fixtures"


def chorale(steps_per_beat: int) -> Grid:
    song = read_midi(SAMPLES / "chorale_bwv254.mid")
    return build_grid(song, select_parts(song), steps_per_beat)


# --- the masker -------------------------------------------------------------------------


def test_masker_offers_only_its_frames() -> None:
    update = np.zeros(96, dtype=bool)
    update[10:70] = True
    beats = np.arange(0, 96, 4)
    rng = np.random.default_rng(0)
    masker = BlockMasker.choose(update, 0.5, beats, 4, rng)
    allowed = set(masker.frames.tolist())
    assert allowed <= set(np.flatnonzero(update).tolist())
    for length in (4, 8, 12):
        for blocks in masker.block_passes(length, rng):
            assert all(set(b.tolist()) <= allowed for b in blocks)
    assert set(masker.single_frames(0.3, rng).tolist()) <= allowed
    order = masker.visiting_order(rng)
    assert sorted(order.tolist()) == sorted(allowed)  # every frame once


def test_strength_chooses_that_share_of_whole_beats() -> None:
    update = np.ones(64, dtype=bool)
    beats = np.arange(0, 64, 4)  # 16 beats of 4 frames
    for strength, n_beats in ((0.0, 0), (0.25, 4), (0.5, 8), (1.0, 16)):
        masker = BlockMasker.choose(update, strength, beats, 4, np.random.default_rng(1))
        chosen = np.unique(masker.frames // 4)
        assert len(chosen) == n_beats
        assert np.array_equal(masker.frames, (chosen[:, None] * 4 + np.arange(4)).ravel())


def test_full_strength_draws_nothing() -> None:
    """Strength 1 takes every frame without a draw, so it costs no randomness."""
    rng = np.random.default_rng(2)
    before = rng.bit_generator.state
    masker = BlockMasker.choose(np.ones(32, dtype=bool), 1.0, np.arange(0, 32, 4), 4, rng)
    assert rng.bit_generator.state == before
    assert np.array_equal(masker.frames, np.arange(32))


def test_blocks_start_on_beats_when_aligned() -> None:
    masker = BlockMasker(np.arange(0, 64), align=4)
    rng = np.random.default_rng(3)
    for _ in range(10):
        passes = masker.block_passes(8, rng)
        starts = {int(b[0]) for p in passes for b in p}
        assert all(s % 4 == 0 for s in starts)


def test_blocks_cover_every_frame_once_and_never_touch_in_a_pass() -> None:
    candidates = np.concatenate([np.arange(3, 40), np.arange(50, 70)])
    masker = BlockMasker(candidates, align=1)
    rng = np.random.default_rng(0)
    for length in (1, 4, 16):
        passes = masker.block_passes(length, rng)
        covered = np.sort(np.concatenate([b for p in passes for b in p]))
        assert np.array_equal(covered, candidates)  # every frame once per sweep
        for blocks in passes:
            frames = np.sort(np.concatenate(blocks))
            ends = {int(b[-1]) + 1 for b in blocks}
            starts = {int(b[0]) for b in blocks}
            assert not ends & starts  # no two blocks of one pass are adjacent
            assert len(frames) == len(set(frames.tolist()))
            assert all(len(b) <= length for b in blocks)


# --- the schedules ----------------------------------------------------------------------


def test_every_schedule_name_selects_a_schedule() -> None:
    assert set(SCHEDULES) == set(get_args(ScheduleName))
    assert isinstance(SCHEDULES["default"](SamplerSettings()), BlockedSchedule)
    assert isinstance(SCHEDULES["paper"](SamplerSettings()), PaperSchedule)


def test_blocked_schedule_anneals_from_parallel_blocks_to_single_frames() -> None:
    assert block_beats(6) == sorted(block_beats(6), reverse=True)
    assert (block_beats(6)[0], block_beats(6)[-1]) == (3, 1)
    schedule = BlockedSchedule(sweeps=6, temperature=0.8, sequential_share=0.1, voice_leading_tries=2)
    masker = BlockMasker(np.arange(96), align=4)
    steps = list(schedule.steps(masker, np.random.default_rng(0)))
    kinds = [type(s) for s in steps]
    n_fill = kinds.count(FillBlocks)
    assert n_fill == 2 * 6  # two passes per sweep
    assert kinds[:n_fill] == [FillBlocks] * n_fill  # parallel first
    singles = steps[n_fill:-1]
    assert len(singles) == 10 and all(isinstance(s, RedrawFrames) and len(s.frames) == 1 for s in singles)
    assert isinstance(steps[-1], FixParallels)  # voice leading last
    lengths = [s.cost for s in steps[:n_fill]]
    temperatures = [s.temperature for s in steps[:n_fill]]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == 12 and lengths[-1] == 4
    assert temperatures == sorted(temperatures, reverse=True)
    assert temperatures[0] == pytest.approx(1.3 * 0.8) and temperatures[-1] == pytest.approx(0.8)
    assert all(s.temperature == 0.8 for s in singles)


def test_paper_schedule_visits_every_frame_per_iteration_and_ends_sequential() -> None:
    masker = BlockMasker(np.arange(40), align=4)
    steps = list(PaperSchedule(iterations=5).steps(masker, np.random.default_rng(0)))
    assert all(isinstance(s, RedrawFrames) and s.temperature is None for s in steps)  # argmax
    sizes = np.array([len(s.frames) for s in steps])
    iteration = (np.cumsum(sizes) - 1) // 40  # groups never straddle two iterations
    widest = [int(sizes[iteration == i].max()) for i in range(5)]
    assert widest[0] == int(0.6 * 40)
    assert widest == sorted(widest, reverse=True)  # parallel groups shrink...
    assert widest[3:] == [1, 1]  # ...to single frames after 60 % of the updates
    for i in range(5):
        visited = np.concatenate([s.frames for s, it in zip(steps, iteration, strict=True) if it == i])
        assert np.array_equal(np.sort(visited), np.arange(40))  # every frame once per iteration


@pytest.mark.parametrize("name", get_args(ScheduleName))
def test_strength_does_not_change_the_schedule(name: ScheduleName) -> None:
    """Strength is the share of beats redrawn, not how long the chain runs."""
    settings = SamplerSettings(schedule=name, seed=0)
    make = SCHEDULES[name]
    assert make(dataclasses.replace(settings, strength=0.3)) == make(settings)


def test_one_seed_spawns_independent_reproducible_streams() -> None:
    first = [s.generate_state(4) for s in SamplerSettings(seed=3).seed_streams()]
    again = [s.generate_state(4) for s in SamplerSettings(seed=3).seed_streams()]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert len(first) == len(SeedStreams._fields) == 4
    assert len({tuple(s.tolist()) for s in first}) == len(first)  # no stream repeats another
    other = SamplerSettings(seed=4).seed_streams().masker.generate_state(4)
    assert not np.array_equal(other, first[1])


# --- the inner sampler and the whole sampler ---------------------------------------------


def _inner(tiny_style: str, seed: int) -> tuple[InnerSampler, np.ndarray]:
    style = load_style(tiny_style)
    cfg = style.model.cfg
    grid = chorale(style.steps_per_beat)
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    generator = torch.Generator().manual_seed(seed)
    return InnerSampler(style.model, grid.melody.astype(np.int64), start, grid.meta(), None,
                        generator), start


def test_inner_sampler_near_zero_temperature_is_the_argmax(tiny_style: str) -> None:
    frames = np.arange(8, 40, 3)
    rolls = []
    for seed, temperature in ((0, 1e-6), (1, 1e-6), (0, None)):
        sampler, _ = _inner(tiny_style, seed)
        with torch.inference_mode():
            sampler.redraw(frames, temperature)
        rolls.append(sampler.roll())
    assert np.array_equal(rolls[0], rolls[1]) and np.array_equal(rolls[0], rolls[2])


def test_inner_sampler_writes_only_the_frames_it_is_given(tiny_style: str) -> None:
    sampler, start = _inner(tiny_style, 0)
    blocks = [np.arange(8, 12), np.arange(20, 24)]
    with torch.inference_mode():
        sampler.fill_blocks(blocks, 1.0)
    changed = np.flatnonzero((sampler.roll() != start).any(axis=1))
    # a hold after a block that fell silent becomes an onset: the next frame may change too
    assert set(changed.tolist()) <= set(range(8, 13)) | set(range(20, 25))


def _chorale_inputs(tiny_style: str) -> tuple[Style, Grid, np.ndarray, np.ndarray, np.ndarray]:
    """The tiny style, the chorale's grid, its melody, starting roll and metadata."""
    style = load_style(tiny_style)
    cfg = style.model.cfg
    grid = chorale(style.steps_per_beat)
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    return style, grid, grid.melody.astype(np.int64), start, grid.meta()


def test_strength_redraws_only_a_share_of_the_beats(tiny_style: str) -> None:
    style, grid, melody, start, meta = _chorale_inputs(tiny_style)
    starts = beat_starts(meta, style.steps_per_beat)
    beat = np.searchsorted(starts, np.arange(grid.n_frames), side="right")
    settings = SamplerSettings(strength=0.25, sweeps=2, seed=4)
    out = resample_accompaniment(style.model, melody, start, meta, settings=settings)
    again = resample_accompaniment(style.model, melody, start, meta, settings=settings)
    assert np.array_equal(out, again)  # a seed reproduces exactly
    # the notes sounding only change in the chosen beats (elsewhere a hold may turn into an onset)
    moved = np.unique(beat[((out != OFF) != (start != OFF)).any(axis=1)])
    assert 0 < len(moved) <= round(0.25 * len(starts))
    full = resample_accompaniment(style.model, melody, start, meta,
                                  settings=dataclasses.replace(settings, strength=1.0))
    assert len(np.unique(beat[(full != start).any(axis=1)])) > round(0.25 * len(starts))


# --- the start --------------------------------------------------------------------------


def _tiled(grid: Grid, times: int, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid's melody, a starting roll and its metadata, repeated ``times`` times."""
    return (np.tile(grid.melody.astype(np.int64), times), np.tile(start, (times, 1)),
            np.tile(grid.meta(), (times, 1)))


def test_a_redraw_reads_a_window_whatever_the_length_of_the_piece(tiny_style: str) -> None:
    """Issue #25: the encoder frames per redrawn frame do not grow with the piece, nor does
    the number of redraw passes (frames too far apart to see each other share one)."""
    style = load_style(tiny_style)
    cfg = style.model.cfg
    grid = chorale(cfg.steps_per_beat)
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    schedule = BlockedSchedule(sweeps=1, temperature=1.0, sequential_share=0.05, voice_leading_tries=0)
    cost = {}
    for times in (4, 16):
        melody, roll, meta = _tiled(grid, times, start)
        sampler = InnerSampler(style.model, melody, roll, meta, None, torch.Generator().manual_seed(0))
        rng = np.random.default_rng(0)
        masker = BlockMasker(np.arange(len(melody)), cfg.steps_per_beat)
        redraws = [s for s in schedule.steps(masker, rng) if isinstance(s, RedrawFrames)]
        for step in redraws:
            step.run(sampler)
        assert sampler.redrawn == sum(len(s.frames) for s in redraws) >= 0.05 * len(melody)
        cost[times] = (sampler.redraw_encoded / sampler.redrawn, len(redraws), len(melody))
    window = 2 * sampler.reach + 1
    (short, short_passes, _), (long, long_passes, frames) = cost[4], cost[16]
    assert window < frames / 8  # the whole piece would cost 16 times the window and more
    assert short <= window and long <= window
    assert abs(long - short) <= 0.15 * short
    assert long_passes <= 2 * short_passes  # four times the frames, not four times the passes


def test_independent_groups_keep_the_order_of_close_frames() -> None:
    order = np.random.default_rng(1).permutation(2000)[:300]
    groups = independent_groups(order, 40)
    assert sorted(np.concatenate(groups).tolist()) == sorted(order.tolist())
    rank = {int(t): k for k, g in enumerate(groups) for t in g}
    position = {int(t): i for i, t in enumerate(order)}
    for g in groups:
        assert (np.diff(g) > 40).all()
    for a in order:
        for b in order:
            if position[int(a)] < position[int(b)] and abs(int(a) - int(b)) <= 40:
                assert rank[int(a)] < rank[int(b)]
    assert len(groups) < len(order) / 10  # far fewer passes than frames


class ChordTones:
    """A second, trivial generator for :class:`FrameModel`: no encoder; it strikes exactly the
    frame's chord tones, whatever the context, drawn through the sampler's policy."""

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self.device = torch.device("cpu")
        self.flags = chord_flag_table(torch.arange(cfg.pitch_lo, cfg.pitch_hi))
        self.encoded = 0

    def eval(self) -> ChordTones:
        return self

    def encode(self, melody: torch.Tensor, accomp: torch.Tensor, meta: torch.Tensor,
               masked: torch.Tensor | None = None) -> torch.Tensor:
        self.encoded += melody.numel()
        return torch.zeros(*melody.shape, 1)

    def sample_frames(self, cond: torch.Tensor, melody_tok: torch.Tensor, chord_tok: torch.Tensor,
                      prev: torch.Tensor, nxt: torch.Tensor, policy: DrawPolicy
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        tone = self.flags[chord_tok][..., 0]
        logits = torch.stack([torch.zeros_like(tone), 8 * tone - 4, torch.full_like(tone, -8)], -1)
        active, states = policy.active, []
        for k in range(tone.shape[1]):
            state, active = choose(logits[:, k], k, policy.forbidden, torch.tensor(-math.inf),
                                   policy.temperature, policy.gumbel, policy.onset_bias,
                                   policy.bass_bias, active)
            states.append(state)
        return torch.stack(states, 1), logits


@pytest.mark.parametrize("schedule", get_args(ScheduleName))
def test_a_second_generator_runs_through_the_unchanged_sampler(schedule: ScheduleName) -> None:
    cfg = ModelConfig(pitch_lo=48, pitch_hi=72)
    grid = chorale(cfg.steps_per_beat)
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    model = ChordTones(cfg)
    out = resample_accompaniment(model, grid.melody.astype(np.int64), start, grid.meta(),
                                 settings=SamplerSettings(schedule=schedule, seed=0, temperature=0.05,
                                                          paper_iterations=2))
    tone = model.flags[torch.as_tensor(grid.meta()[:, META_CHORD])][..., 0].numpy().astype(bool)
    assert model.encoded > 0 and tone.any()
    np.testing.assert_array_equal(out, np.where(tone, ONSET, OFF))


def test_start_is_the_input_accompaniment_when_there_is_one() -> None:
    grid = chorale(4)
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    assert np.array_equal(starting_roll(grid, 36, 84, rng), fold_into_range(grid.accomp, 36, 84))
    assert rng.bit_generator.state == before


def test_melody_only_starts_from_block_chords_of_the_chord_track() -> None:
    song = read_midi(FIXTURES / "melody_only.mid")
    grid = build_grid(song, select_parts(song), 4)
    chords = [Chord(0), Chord(9, "m"), Chord(5), Chord(7, "7")]
    grid.chords = np.array([chords[i % 4].token for i in np.cumsum(grid.bar_step == 0) - 1])
    roll = starting_roll(grid, 36, 84, np.random.default_rng(0))
    assert np.array_equal(roll, block_chords(grid, 36, 84, np.random.default_rng(0)))
    for t in np.flatnonzero(grid.bar_step == 0):
        struck = 36 + np.flatnonzero(roll[t] == ONSET)
        chord = Chord.from_token(int(grid.chords[t]))
        assert struck.size and {int(p) % 12 for p in struck} <= chord.pitch_classes
        assert int(struck[0]) % 12 == chord.root  # the root below


# --- chains in lockstep -----------------------------------------------------------------


class Counting:
    """A network wrapper that counts the calls the sampler makes of it."""

    def __init__(self, model: FrameModel, fail_at: int | None = None) -> None:
        self.model, self.cfg, self.device = model, model.cfg, model.device
        self.calls = 0
        self.fail_at = fail_at

    def eval(self) -> Counting:
        return self

    def encode(self, *args: torch.Tensor | None) -> torch.Tensor:
        return self.model.encode(*args)

    def sample_frames(self, *args: object) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls += 1
        if self.calls == self.fail_at:
            raise ValueError("the network failed")
        return self.model.sample_frames(*args)  # type: ignore[arg-type]


def test_chains_in_lockstep_draw_what_each_draws_alone_in_fewer_calls(tiny_style: str) -> None:
    style, _, melody, start, meta = _chorale_inputs(tiny_style)
    settings = [SamplerSettings(sweeps=2, seed=seed, voice_leading_tries=3) for seed in (3, 4, 5)]
    alone, together = Counting(style.model), Counting(style.model)
    one_by_one = [resample_accompaniment(alone, melody, start, meta, settings=s) for s in settings]
    in_lockstep = resample_many(together, melody, start, meta, None, settings)
    for a, b in zip(one_by_one, in_lockstep, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(one_by_one[0], one_by_one[1])  # the seeds differ
    assert together.calls < alone.calls / 2
    with pytest.raises(ValueError, match="the network failed"):  # a failure ends every chain
        resample_many(Counting(style.model, fail_at=3), melody, start, meta, None, settings)
