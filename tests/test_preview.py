"""Previews: WAV length and loudness, piano-roll size, MusicXML melody."""

from __future__ import annotations

import wave
from pathlib import Path

import matplotlib.image
import numpy as np
import pretty_midi
import pytest

from styletx.cli import main
from styletx.io.reader import read_midi
from styletx.music.parts import select_parts
from styletx.preview import (
    PLOT_ROW_HEIGHT_PX,
    PLOT_WIDTH_PX,
    RELEASE_SECONDS,
    plot_piano_roll,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_render_wav_is_audible_and_as_long_as_the_midi(tiny_style: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mid"
    assert main(["render", str(FIXTURES / "tempo_changes.mid"), "-o", str(out), "--style",
                 tiny_style, "--sweeps", "1", "--seed", "1", "--wav"]) == 0
    with wave.open(str(out.with_suffix(".wav"))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (44_100, 2, 2)
        seconds = w.getnframes() / w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    end = pretty_midi.PrettyMIDI(str(out)).get_end_time()
    assert abs(seconds - (end + RELEASE_SECONDS)) < 0.5
    assert np.abs(audio).max() > 1000
    assert np.sqrt(np.mean(audio.astype(float) ** 2)) > 50


def test_plot_has_a_fixed_size(tiny_style: str, tmp_path: Path) -> None:
    src = FIXTURES / "drums.mid"
    out = tmp_path / "out.mid"
    assert main(["render", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1"]) == 0
    assert main(["plot", str(src), str(out), "-o", str(tmp_path / "roll.png")]) == 0
    image = matplotlib.image.imread(tmp_path / "roll.png")
    assert image.shape[:2] == (2 * PLOT_ROW_HEIGHT_PX, PLOT_WIDTH_PX)
    plot_piano_roll([FIXTURES / "pickup.mid"], tmp_path / "one.png")
    assert matplotlib.image.imread(tmp_path / "one.png").shape[:2] == (PLOT_ROW_HEIGHT_PX,
                                                                        PLOT_WIDTH_PX)
    assert main(["plot", str(src), "-o", str(tmp_path / "one.png")]) == 2  # exists, no --force


@pytest.mark.parametrize("suffix", [".musicxml", ".mxl"])
def test_render_musicxml_keeps_the_melody(tiny_style: str, tmp_path: Path, suffix: str) -> None:
    from music21 import converter

    src = FIXTURES / "meter_3_4.mid"
    out = tmp_path / f"out{suffix}"
    assert main(["render", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1"]) == 0
    assert not list(tmp_path.glob("*.mid"))  # only the score is written
    melody = [n.pitch for n in select_parts(read_midi(src)).melody.notes]
    score = converter.parse(str(out))
    parts = [[p.midi for n in part.flatten().notes for p in n.pitches] for part in score.parts]
    assert melody in parts


def test_an_unknown_output_suffix_is_refused_before_sampling(tiny_style: str, tmp_path: Path) -> None:
    from styletx.api import render
    from styletx.errors import StyleTxError

    with pytest.raises(StyleTxError, match=r"write \.mid, \.midi, \.musicxml, \.xml, \.mxl or \.wav"):
        render(FIXTURES / "pickup.mid", tmp_path / "x.txt", tiny_style)


def test_wav_without_tinysoundfont_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from styletx.preview import write_wav

    monkeypatch.setitem(sys.modules, "tinysoundfont", None)  # import fails
    from styletx.errors import StyleTxError

    with pytest.raises(StyleTxError, match="pip install --no-deps tinysoundfont"):
        write_wav(FIXTURES / "pickup.mid", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
