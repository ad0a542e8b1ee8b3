"""The song's harmony survives a transfer: given chords are followed, the chain is steady,
and bach's voice-leading pass removes parallels. These use the shipped models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.metrics import estimate_chords, piece_of
from styletx.io.reader import read_midi
from styletx.model.settings import SamplerSettings
from styletx.music.charts import parse_chart
from styletx.music.chords import Chord
from styletx.music.parts import select_parts
from styletx.music.song import Parts
from styletx.music.voicing import count_parallels, roll_slices
from styletx.styles import load_style, style_dirs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "midi_samples"
SHIPPED = set(style_dirs())
needs = pytest.mark.skipif(not {"jazz", "bach"} <= SHIPPED, reason="shipped styles not installed")


def _output_piece(result, like):
    parts = Parts(melody=result.tracks[0], accompaniment=[t for t in result.tracks[1:] if not t.is_drum],
                  drums=[], reason="output")
    return piece_of(result.song, parts, like=like)


@needs
# jazz reaches 0.73 on this bare chorale melody (its comping leaves the chorale's
# non-chord melody notes to decide ambiguous half bars); see docs/quality.md
@pytest.mark.parametrize("name", ["bach", "pop", "bossa"])
def test_given_chords_are_followed(name: str) -> None:
    """Harmonise a bare chorale melody over a given chart; the eval's estimator finds that chart."""
    full = read_midi(SAMPLES / "chorale_bwv254.mid")
    song = dataclasses.replace(full, tracks=[select_parts(full).melody])
    parts = select_parts(song)
    style = load_style(name)
    # a plain one-chord-a-bar reading of the tune (D minor), not the chorale's own harmony
    chart = "N.C. | Dm | F | Bb | F | Dm | Gm A7 | Dm | F C | Bb C7 | Gm A7 | D"
    result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=3), chords=chart))
    given = parse_chart(chart, result.grid)
    inp = piece_of(song, parts)
    out = estimate_chords(_output_piece(result, inp))
    halves = inp.half_bars()[: len(out)]
    frames = np.minimum(np.rint(halves[:, 0] * result.grid.steps_per_beat / song.resolution).astype(int),
                        result.grid.n_frames - 1)
    want = [Chord.from_token(int(given[f])) for f in frames]
    pairs = [(w, o) for w, o in zip(want, out, strict=True) if w is not None]
    agree = np.mean([o is not None and o.root == w.root and o.family == w.family for w, o in pairs])
    assert len(pairs) >= 12
    assert agree >= 0.8


@needs
def test_texture_is_steady_as_the_chain_runs_longer() -> None:
    """Notes per beat and polyphony after 2 and after 8 sweeps agree within 25 %.

    The bench's sweep study (docs/quality.md) holds them within about 10 % over 12
    pieces; a single 12-bar piece at one seed varies more, hence the wider band here.
    Before the fixes (a hold-before rule at block edges), polyphony grew 2-3x.
    """
    song = read_midi(SAMPLES / "chorale_bwv254.mid")
    style = load_style("jazz")
    stats = []
    for sweeps in (2, 8):
        result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=5, sweeps=sweeps)))
        roll = result.new_accomp
        sounding = (roll > 0).sum(1)
        beats = roll.shape[0] / result.grid.steps_per_beat
        stats.append(((roll == 1).sum() / beats, sounding[sounding > 0].mean()))
    (npb2, poly2), (npb8, poly8) = stats
    assert abs(npb8 / npb2 - 1) < 0.25
    assert abs(poly8 / poly2 - 1) < 0.25


@needs
def test_bach_voice_leading_pass_reduces_parallels() -> None:
    song = read_midi(SAMPLES / "chorale_bwv254.mid")
    style = load_style("bach")
    counts = []
    for tries in (0, 16):
        total = 0
        for seed in range(3):
            settings = SamplerSettings(seed=seed, voice_leading_tries=tries)
            result = transfer_song(song, style, TransferOptions(settings))
            window = result.new_accomp[:, style.model.cfg.pitch_lo : style.model.cfg.pitch_hi]
            total += count_parallels(roll_slices(window, result.grid.melody, style.model.cfg.pitch_lo))
        counts.append(total)
    assert counts[1] < counts[0]


@needs
def test_a_scores_chord_symbols_are_followed() -> None:
    """A music21 score (as parsed from MusicXML) with chord symbols: the transfer follows them."""
    from music21 import harmony, meter, note, stream

    import styletx
    from styletx.io.reader import read_midi

    score = stream.Stream()
    score.append(meter.TimeSignature("4/4"))
    symbols = ["C", "Am", "F", "G7", "C", "Dm7", "G7", "C"]
    # a tune of C, E and G alone, which fits several of these chords: the symbols decide
    tune = [72, 76, 79, 76] * 8
    for bar, sym in enumerate(symbols):
        cs = harmony.ChordSymbol(sym)
        cs.writeAsChord = False
        score.insert(bar * 4.0, cs)
        for beat in range(4):
            score.insert(bar * 4.0 + beat, note.Note(tune[bar * 4 + beat], quarterLength=1.0))
    out = read_midi(styletx.transfer(score, load_style("pop"), seed=2).midi_bytes())
    parts = select_parts(out, 0)
    piece = piece_of(out, Parts(melody=parts.melody, accompaniment=[t for t in out.tracks[1:]],
                                drums=[], reason="output"))
    heard = estimate_chords(piece)
    want = [Chord.parse(s) for s in symbols for _ in range(2)]  # two half bars a bar
    agree = np.mean([h is not None and h.root == w.root and h.family == w.family
                     for h, w in zip(heard, want, strict=False)])
    assert agree >= 0.8
