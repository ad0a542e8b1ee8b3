"""The harmony prior's chord coverage: which chord tones a segment lacks, and that sampling fills them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from styletx.api import TransferOptions, TransferResult, transfer_song
from styletx.io.reader import read_midi
from styletx.model.coverage import missing_tones
from styletx.model.settings import SamplerSettings
from styletx.music.chords import Chord, segment_starts
from styletx.music.encoding import HOLD, ONSET, melody_pitches, melody_token
from styletx.styles import load_style

SAMPLES = Path(__file__).parent.parent / "midi_samples"


def test_a_pitch_class_is_missing_when_no_other_frame_of_its_segment_sounds_it() -> None:
    pitches = torch.arange(48, 72)
    accomp = torch.zeros(6, len(pitches), dtype=torch.long)
    accomp[0, 48 - 48] = ONSET  # C3 in frame 0
    accomp[1, 48 - 48] = HOLD
    accomp[2, 64 - 48] = ONSET  # E4 in frame 2
    accomp[4, 55 - 48] = ONSET  # G3 in frame 4, the second segment
    melody = torch.tensor([0, melody_token(67, onset=True), 0, 0, 0, 0])  # G4 in frame 1
    segment = torch.tensor([0, 0, 0, 1, 1, 1])
    missing = missing_tones(torch.tensor([0, 2, 3]), accomp, melody, segment, pitches)
    lacking = [sorted({int(p) % 12 for p in pitches[row]}) for row in missing]
    assert lacking[0] == [1, 2, 3, 5, 6, 8, 9, 10, 11]  # C held on in frame 1, E in frame 2, G in the melody
    assert lacking[1] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11]  # frame 2's own E does not count
    assert lacking[2] == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11]  # the next segment: only its own G


def _complete_share(result: TransferResult) -> float:
    """Share of chorded half bars whose accompaniment and melody sound every tone of the chord."""
    grid = result.grid
    starts = segment_starts(grid.meta(), grid.steps_per_beat, "half_bar")
    full = n = 0
    for a, b in zip(starts, [*starts[1:], grid.n_frames], strict=True):
        chord = Chord.from_token(int(grid.chords[a]))
        if chord is None:
            continue
        sounding = {int(p) % 12 for p in np.nonzero((result.new_accomp[a:b] > 0).any(0))[0]}
        sounding |= {int(p) % 12 for p in melody_pitches(grid.melody[a:b])[grid.melody[a:b] > 0]}
        n += 1
        full += chord.pitch_classes <= sounding
    return full / n


def test_a_high_coverage_bonus_makes_the_half_bars_sound_their_chords() -> None:
    # the shipped folk model leaves half bars as dyads (an untrained model sounds everything)
    style = load_style("folk")
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    prior = style.info.prior
    free = transfer_song(song, style, TransferOptions(SamplerSettings(
        sweeps=2, seed=5, prior=replace(prior, complete=0.0))))
    covered = transfer_song(song, style, TransferOptions(SamplerSettings(
        sweeps=2, seed=5, prior=replace(prior, complete=30.0))))
    assert _complete_share(covered) >= 0.9 > _complete_share(free)
