"""The melody-aware clash cost (issue #19): which onsets it charges, and that sampling obeys it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from styletx.api import TransferOptions, transfer_song
from styletx.io.reader import read_midi
from styletx.model.clash import clash_onsets
from styletx.model.settings import HarmonyPrior, SamplerSettings
from styletx.music.chords import Chord
from styletx.music.encoding import ONSET, melody_token
from styletx.styles import StyleInfo, load_style

SAMPLES = Path(__file__).parent.parent / "midi_samples"


def _charged(prior: HarmonyPrior, melody: int, chord: Chord) -> list[int]:
    pitches = torch.arange(40, 90)
    mask = clash_onsets(pitches, torch.tensor([melody]), torch.tensor([chord.token]), prior)[0]
    return pitches[mask].tolist()


def test_a_semitone_in_any_octave_either_side_is_charged() -> None:
    prior = HarmonyPrior(clash=3.0)
    e4 = melody_token(64, onset=True)
    assert _charged(prior, e4, Chord(0, "")) == [41, 51, 53, 63, 65, 75, 77, 87, 89]
    held = melody_token(64, onset=False)
    # a held melody note sounds too
    assert _charged(prior, held, Chord(0, "")) == [41, 51, 53, 63, 65, 75, 77, 87, 89]
    assert _charged(prior, 0, Chord(0, "")) == []  # the melody rests: nothing rubs


def test_an_exception_is_kept_only_for_its_chord_quality_and_melody_degree() -> None:
    # E over C major is degree 4; the data's pairing: Eb a semitone under it
    prior = HarmonyPrior(clash=3.0, clash_exceptions=[["", 4, -1]])
    e4 = melody_token(64, onset=True)
    assert _charged(prior, e4, Chord(0, "")) == [41, 53, 65, 77, 89]
    assert _charged(prior, e4, Chord(0, "m")) == [41, 51, 53, 63, 65, 75, 77, 87, 89]  # another quality
    # another degree (E over D)
    assert _charged(prior, e4, Chord(2, "")) == [41, 51, 53, 63, 65, 75, 77, 87, 89]


def test_the_exceptions_round_trip_through_style_json() -> None:
    info = StyleInfo.from_dict({"name": "x", "prior": {"clash": 2.5, "clash_exceptions": [["7", 10, 1]]}})
    assert info.prior.clash_exceptions == (("7", 10, 1),)
    assert StyleInfo.from_dict(info.to_dict()).prior == info.prior


def test_a_high_clash_cost_keeps_every_onset_off_the_melodys_semitones(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    settings = SamplerSettings(sweeps=2, seed=5, prior=HarmonyPrior(clash=60.0))
    result = transfer_song(song, style, TransferOptions(settings))
    free = transfer_song(song, style, TransferOptions(SamplerSettings(sweeps=2, seed=5)))

    def rubs(roll: np.ndarray) -> int:
        grid = result.grid
        frames, pitches = np.nonzero(roll == ONSET)
        mel = grid.melody[frames]
        sounding = mel > 0
        diff = (pitches - (mel - 1) % 128) % 12
        return int((sounding & np.isin(diff, (1, 11))).sum())

    assert rubs(free.new_accomp) > 0  # the untrained model rubs freely
    assert rubs(result.new_accomp) == 0
