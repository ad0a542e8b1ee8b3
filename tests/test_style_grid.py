"""How a style grids a song has one owner, :meth:`Style.grid` (issue #18, item 4): the
transfer, ``eval``'s NLL and the nearest-style fit all grid at the style's harmonic rhythm."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from styletx.evaluation.metrics import model_nll
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.styles import load_style
from styletx.training.corpus import piece_from_grid
from styletx.training.own import new_style_grid, read_files, style_fit
from styletx.training.train import frame_nll

CHORALE = Path(__file__).resolve().parents[1] / "midi_samples" / "chorale_bwv254.mid"


@pytest.fixture
def song_and_parts():  # type: ignore[no-untyped-def]
    from styletx.io.reader import read_midi

    song = read_midi(CHORALE)
    return song, select_parts(song)


def _nll(style, song, parts, per: str) -> float:  # type: ignore[no-untyped-def]
    grid = build_grid(song, parts, style.steps_per_beat, per)
    return frame_nll(style.model, [piece_from_grid("x", "x", grid, style.model.cfg.max_bar_steps)])


def test_the_style_grids_at_its_harmonic_rhythm(tiny_style: str, song_and_parts) -> None:  # type: ignore[no-untyped-def]
    song, parts = song_and_parts
    style = load_style(tiny_style)
    for per in ("beat", "half_bar"):
        style.info = dataclasses.replace(style.info, harmonic_rhythm=per)
        expected = build_grid(song, parts, style.steps_per_beat, per)
        assert np.array_equal(style.grid(song, parts).chords, expected.chords)
    # the chorale changes chords on beats, so the two rhythms give different tracks
    assert not np.array_equal(build_grid(song, parts, 4, "beat").chords,
                              build_grid(song, parts, 4, "half_bar").chords)


def test_eval_nll_uses_the_harmonic_rhythm(tiny_style: str, song_and_parts) -> None:  # type: ignore[no-untyped-def]
    """An MMA style (chords per half bar) is scored on the half-bar chords it renders with."""
    song, parts = song_and_parts
    style = load_style(tiny_style)
    for per in ("half_bar", "beat"):
        style.info = dataclasses.replace(style.info, harmonic_rhythm=per)
        assert model_nll(style, song, parts) == pytest.approx(_nll(style, song, parts, per), rel=1e-9)
    assert _nll(style, song, parts, "beat") != pytest.approx(_nll(style, song, parts, "half_bar"),
                                                             rel=1e-6)


def test_the_nearest_style_fit_is_the_same_score_per_beat(tiny_style: str) -> None:
    style = load_style(tiny_style)
    corpus = read_files([CHORALE])
    pieces = corpus.pieces(style.steps_per_beat, style.grid)
    assert style_fit(style, pieces) == pytest.approx(
        frame_nll(style.model, pieces) * style.steps_per_beat, rel=1e-12)
    scratch = corpus.pieces(style.steps_per_beat, new_style_grid(style.steps_per_beat))
    assert np.array_equal(scratch[0].meta, pieces[0].meta)  # the tiny style's rhythm is the default
