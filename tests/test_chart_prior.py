"""A chart is followed as an instruction: a style's ``chart_prior`` applies when the chords are
given (``--chords``, a score's symbols), and the estimated-chord path keeps the style's ``prior``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.metrics import chord_agreement, estimate_chords, piece_of
from styletx.model.settings import HarmonyPrior, SamplerSettings
from styletx.music.chords import INTERVALS, Chord
from styletx.music.song import Note, Parts, Song, TempoChange, TimeSignature, Track
from styletx.styles import StyleInfo, load_style
from tests.conftest import make_tiny_style

R = 480
CHART = "C | Am | F | G7 | C | Dm7 | G7 | C"
PRIOR = HarmonyPrior(non_chord=1.0, bass_root=1.0)
CHART_PRIOR = HarmonyPrior(non_chord=6.0, bass_root=6.0, complete=4.0, tacet=8.0)


def _song() -> Song:
    """Eight bars: a tune of C and G (it fits most of the chart's chords) over the chart's block chords."""
    chords = [Chord.parse(s) for s in CHART.replace("|", " ").split()]
    melody = [Note(b * 4 * R + k * R, b * 4 * R + (k + 1) * R, 72 if k % 2 == 0 else 67, 90)
              for b in range(len(chords)) for k in range(4)]
    blocks = [Note(b * 4 * R, (b + 1) * 4 * R, 48 + c.root + i, 70)
              for b, c in enumerate(chords) for i in INTERVALS[c.quality]]
    return Song(R, [Track("Melody", 73, False, melody, index=0), Track("Piano", 0, False, blocks, index=1)],
                [TempoChange(0, 500_000)], [TimeSignature(0, 4, 4)])


def _style(root: Path, chart_prior: HarmonyPrior | None) -> Path:
    directory = make_tiny_style(root, "charted")
    StyleInfo(name="charted", prior=PRIOR, chart_prior=chart_prior).save(directory)
    return directory


def _agreement(song: Song, result) -> float:
    reference = piece_of(song, Parts(song.tracks[0], [song.tracks[1]], [], "chart"))
    out = Song(R, result.tracks, song.tempos, song.time_signatures)
    output = piece_of(out, Parts(result.tracks[0], result.tracks[1:], [], "output"), like=reference)
    return chord_agreement(estimate_chords(reference), estimate_chords(output)).chord


def test_a_given_chart_is_followed_more_closely_than_the_same_chords_estimated(tmp_path: Path) -> None:
    song, style = _song(), load_style(_style(tmp_path, CHART_PRIOR))
    estimated, charted = [], []
    for seed in range(3):
        settings = SamplerSettings(seed=seed, sweeps=2)
        guessed = transfer_song(song, style, TransferOptions(settings, melody_track=0))
        given = transfer_song(song, style, TransferOptions(settings, chords=CHART, melody_track=0))
        # the same chords either way: only whether they were given differs
        assert np.array_equal(guessed.grid.chords, given.grid.chords)
        estimated.append(_agreement(song, guessed))
        charted.append(_agreement(song, given))
    assert np.mean(charted) >= np.mean(estimated) + 0.3, (charted, estimated)


def test_estimated_chords_keep_the_styles_prior(tmp_path: Path) -> None:
    """A chart prior changes nothing where the chords are estimated, and what it changes given a chart."""
    song = _song()
    with_chart = load_style(_style(tmp_path / "a", CHART_PRIOR))
    without = load_style(_style(tmp_path / "b", None))
    options = TransferOptions(SamplerSettings(seed=4, sweeps=2), melody_track=0)
    assert np.array_equal(transfer_song(song, with_chart, options).new_accomp,
                          transfer_song(song, without, options).new_accomp)
    charted = dataclasses.replace(options, chords=CHART)
    assert not np.array_equal(transfer_song(song, with_chart, charted).new_accomp,
                              transfer_song(song, without, charted).new_accomp)
    # the caller's own prior wins over both
    mine = TransferOptions(SamplerSettings(seed=4, sweeps=2, prior=PRIOR), chords=CHART, melody_track=0)
    assert np.array_equal(transfer_song(song, with_chart, mine).new_accomp,
                          transfer_song(song, without, mine).new_accomp)


def test_the_chart_prior_round_trips_through_style_json(tmp_path: Path) -> None:
    info = load_style(_style(tmp_path, CHART_PRIOR)).info
    assert info.chart_prior == CHART_PRIOR and info.prior == PRIOR
    assert StyleInfo.from_dict({"name": "old"}).chart_prior is None  # a card written before it


def test_a_chart_lays_out_where_it_says_no_chord(tmp_path: Path) -> None:
    """``N.C.`` in a chart: the tacet cost keeps the accompaniment from striking there."""
    song, style = _song(), load_style(_style(tmp_path, CHART_PRIOR))
    loud = load_style(_style(tmp_path / "b", dataclasses.replace(CHART_PRIOR, tacet=0.0)))
    chart = "N.C. | " + CHART.split("|", 1)[1]
    bar = 4 * R
    struck = []
    for s in (style, loud):
        result = transfer_song(song, s, TransferOptions(SamplerSettings(seed=1, sweeps=2), chords=chart,
                                                        melody_track=0))
        struck.append(sum(n.start < bar for t in result.tracks[1:] for n in t.notes))
    assert struck[0] < struck[1] / 4, struck


def test_a_chart_keeps_a_major_chords_third_under_the_blue_note() -> None:
    """A♭ sung over a charted F: the chart prior lets the accompaniment's A stand (the symbol asks
    for it), the estimated-chord prior still charges it, and the other rubs stay charged."""
    import torch

    from styletx.model.clash import clash_onsets
    from styletx.music.encoding import melody_token
    from styletx.training.recipes import chart_prior, recipe

    pitches = torch.arange(48, 72)
    a_flat = torch.tensor([melody_token(68, onset=True)])

    def charged(prior: HarmonyPrior, chord: Chord) -> list[int]:
        mask = clash_onsets(pitches, a_flat, torch.tensor([chord.token]), prior)[0]
        return sorted({int(p) % 12 for p in pitches[mask]})

    estimated = recipe("jazz").style_info("").prior
    assert charged(estimated, Chord(5, "")) == [7, 9]  # G and A, a semitone either side of A♭
    assert charged(chart_prior(estimated), Chord(5, "")) == [7]  # the third of F is the chart's
    assert charged(chart_prior(estimated), Chord(5, "7")) == [7]
    assert charged(chart_prior(estimated), Chord(5, "m")) == [7, 9]  # over F minor, A is no chord tone
