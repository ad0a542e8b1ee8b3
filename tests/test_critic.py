"""``--candidates N``: the critic's verdicts, the seed rule, and that the best draw is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from styletx.api import TransferOptions, transfer_song
from styletx.io.reader import read_midi
from styletx.model.settings import SamplerSettings
from styletx.music.chords import Chord
from styletx.music.critic import candidate_seed, judge
from styletx.music.encoding import HOLD, ONSET, melody_token
from styletx.styles import load_style

SAMPLES = Path(__file__).parent.parent / "midi_samples"


def _bars(n_bars: int, steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(np.arange(n_bars), steps), np.tile(np.arange(steps), n_bars)


def test_a_clash_free_chord_tone_groove_beats_a_rubbing_one() -> None:
    bar_index, bar_step = _bars(4)
    t = len(bar_index)
    melody = np.full(t, melody_token(76, onset=False))  # E5 held over C major throughout
    melody[::16] = melody_token(76, onset=True)
    chords = np.full(t, Chord(0, "").token)
    good = np.zeros((t, 128), dtype=np.uint8)
    good[::4, [48, 55, 64]] = ONSET  # C, G, E on every beat
    bad = good.copy()
    bad[::4, 64] = 0
    bad[::4, 65] = ONSET  # F: a semitone from the melody's E, and no chord tone
    g, b = judge(good, melody, chords, bar_index, bar_step), judge(bad, melody, chords, bar_index, bar_step)
    assert (g.fit, g.clash, g.groove) == (1.0, 0.0, 1.0)
    assert b.clash == 1.0 and b.fit < 1.0 and b.score < g.score
    held = good.copy()
    held[1:4, 65] = HOLD  # a held rub counts as much as a struck one
    held[0, 65] = ONSET
    assert judge(held, melody, chords, bar_index, bar_step).clash > 0


def test_the_seed_rule() -> None:
    assert candidate_seed(7, 0) == 7  # candidate 0 is the transfer itself
    assert candidate_seed(None, 3) is None
    seeds = [candidate_seed(7, k) for k in range(8)]
    assert len(set(seeds)) == 8 and seeds == [candidate_seed(7, k) for k in range(8)]


def test_best_of_n_is_deterministic_and_one_candidate_changes_nothing(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    settings = SamplerSettings(sweeps=1, seed=11)
    plain = transfer_song(song, style, TransferOptions(settings))
    one = transfer_song(song, style, TransferOptions(settings, candidates=1))
    assert np.array_equal(plain.new_accomp, one.new_accomp)
    three = [transfer_song(song, style, TransferOptions(settings, candidates=3)) for _ in range(2)]
    assert np.array_equal(three[0].new_accomp, three[1].new_accomp)
    g = plain.grid

    def score(roll: np.ndarray) -> float:
        return judge(roll, g.melody, g.chords, g.bar_index, g.bar_step).score

    drawn = [transfer_song(song, style, TransferOptions(SamplerSettings(sweeps=1, seed=seed)))
             for seed in (candidate_seed(11, k) for k in range(3))]
    assert score(three[0].new_accomp) == max(score(d.new_accomp) for d in drawn)
