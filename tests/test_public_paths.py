"""Melody exactness through every public path, over every fixture with a melody and a chorale.

The paths: ``transfer().write()``, ``render()``, ``run_batch`` (``styletx batch``),
``styletx render`` and ``transfer().to_pretty_midi().write()``. The first four write
exact ticks: the melody comes back note for note (pitch, ticks, velocity), with its
part's name, program and events, under the input's resolution and tempo, meter and key
maps. pretty_midi cannot hold everything; what it loses is documented in
:meth:`TransferResult.to_pretty_midi` and must be named in a warning, and nothing else
may differ. The warning collector is checked here too: ``--jobs`` must not change what
a batch reports.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import styletx
from styletx.api import PrettyMidiLossWarning, TransferOptions
from styletx.batch import BatchOptions, run_batch
from styletx.cli import main
from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.music.parts import select_parts
from styletx.music.song import Song, Track

FIXTURES = Path(__file__).parent / "fixtures"
CHORALE = Path(__file__).parent.parent / "midi_samples" / "chorale_bwv254.mid"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
# Fixtures meant to fail (corrupt, empty, drums only, SMPTE, ...) have no melody to keep;
# tests/test_midi_io.py checks that they fail with the right error.
INPUTS = {name: FIXTURES / name for name in sorted(EXPECTED) if "error" not in EXPECTED[name]}
INPUTS["chorale_bwv254.mid"] = CHORALE
SEED, SWEEPS = 1, 1

PRETTY_MIDI_LOSSES = {
    "zero_length.mid": ["zero-length note"],
    "overlapping_same_pitch.mid": ["re-paired"],
    "type0_channels.mid": ["the time-signature map"],
    "melody_program_change.mid": ["the part layout"],
    "melody_aftertouch.mid": ["events"],
    "melody_sysex.mid": ["events"],
    "melody_lyrics.mid": ["events"],
    "named_tracks.mid": ["events"],  # the melody's channel is renumbered
}
"""What pretty_midi loses on each fixture (documented in ``to_pretty_midi``), by the
phrase its warning uses; every other input must come through without a warning."""


def assert_melody_kept(src: Path, out: Song) -> None:
    """The output's first part is the input's melody, exactly, under the input's maps."""
    song = read_midi(src)
    melody = select_parts(song).melody
    written = out.tracks[0]
    assert written.notes == melody.notes
    assert (written.name, written.program, written.is_drum) == (melody.name, melody.program, False)
    assert _events(written) == _events(melody)
    assert out.resolution == song.resolution
    assert out.tempos == song.tempos
    assert out.time_signatures == song.time_signatures
    assert out.key_signatures == song.key_signatures
    assert out.lyrics == song.lyrics


def _events(track: Track) -> list[tuple[int, bytes]]:
    """A part's other events, with the channel of channel messages left out (the writer may
    give the part another channel; the events follow it, see tests/test_events.py)."""
    return [(tick, bytes([raw[0] & 0xF0]) + raw[1:] if 0x80 <= raw[0] < 0xF0 else raw)
            for tick, raw in track.events]


@pytest.fixture(scope="module")
def style_name(_tiny_models: Path) -> Iterator[str]:
    """The tiny style, installed for the whole module (the batch runs once for all inputs)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLETX_MODELS", str(_tiny_models))
        yield "tiny"


@pytest.fixture(scope="module")
def batch_out(style_name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every input converted by one ``run_batch``, in this process."""
    src = tmp_path_factory.mktemp("batch_in")
    for name, path in INPUTS.items():
        shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("batch_out")
    options = BatchOptions(style_name, TransferOptions().replace(seed=SEED, sweeps=SWEEPS))
    report = run_batch([src], out, options, progress=False)
    assert report.count("ok") == len(INPUTS), [r.reason for r in report.results if r.reason]
    return out


@pytest.mark.parametrize("name", INPUTS)
def test_exact_paths_keep_the_melody_and_agree(name: str, style_name: str, tmp_path: Path,
                                               batch_out: Path) -> None:
    src = INPUTS[name]
    style = styletx.load_style(style_name)
    styletx.transfer(src, style, seed=SEED, sweeps=SWEEPS).write(tmp_path / "transfer.mid")
    styletx.render(src, tmp_path / "render.mid", style, seed=SEED, sweeps=SWEEPS)
    assert main(["render", str(src), "-o", str(tmp_path / "cli.mid"), "--style", style_name,
                 "--seed", str(SEED), "--sweeps", str(SWEEPS)]) == 0
    for path in ("transfer.mid", "render.mid", "cli.mid"):
        assert_melody_kept(src, read_midi(tmp_path / path))
    assert_melody_kept(src, read_midi(batch_out / name))
    # One path: the same options give the same bytes whichever way they came in.
    data = (tmp_path / "transfer.mid").read_bytes()
    assert (tmp_path / "render.mid").read_bytes() == data
    assert (tmp_path / "cli.mid").read_bytes() == data


@pytest.mark.parametrize("name", INPUTS)
def test_to_pretty_midi_names_what_it_loses(name: str, style_name: str, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    result = styletx.transfer(INPUTS[name], styletx.load_style(style_name), seed=SEED, sweeps=SWEEPS)
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = result.to_pretty_midi()
    assert not caplog.records  # its own check reads quietly: the input's oddities were reported
    said = " ".join(str(w.message) for w in caught if w.category is PrettyMidiLossWarning)
    for phrase in PRETTY_MIDI_LOSSES.get(name, []):
        assert phrase in said
    if name not in PRETTY_MIDI_LOSSES:
        assert said == ""
    pm.write(str(tmp_path / "pm.mid"))
    exact, via = read_midi(result.midi_bytes()), read_midi(tmp_path / "pm.mid")
    # Nothing the warning does not name may differ.
    if "the part layout" not in said:
        assert [(t.name, t.program, t.is_drum) for t in via.tracks] == \
            [(t.name, t.program, t.is_drum) for t in exact.tracks]
        if "events" not in said:
            assert [t.events for t in via.tracks] == [t.events for t in exact.tracks]
    if not said:
        assert via.tracks[0].notes == exact.tracks[0].notes == result.tracks[0].notes
    if "zero-length" in said and "re-paired" not in said:
        kept = [n for n in exact.tracks[0].notes if n.end > n.start]
        assert via.tracks[0].notes == kept  # exactly the zero-length notes are gone
    if "re-paired" in said:  # same notes struck, some ends swapped between them
        assert sorted((n.pitch, n.start) for n in via.tracks[0].notes) == \
            sorted((n.pitch, n.start) for n in exact.tracks[0].notes)
    for field, phrase in (("tempos", "the tempo map"), ("time_signatures", "the time-signature map"),
                          ("key_signatures", "the key map"), ("lyrics", "lyrics")):
        if phrase not in said:
            assert getattr(via, field) == getattr(exact, field)


def test_write_picks_the_format_by_suffix_and_never_overwrites_the_input(
    style_name: str, tmp_path: Path
) -> None:
    src = tmp_path / "in.mid"
    shutil.copy(INPUTS["pickup.mid"], src)
    result = styletx.transfer(src, styletx.load_style(style_name), seed=SEED, sweeps=SWEEPS)
    result.write(tmp_path / "out.musicxml")
    assert (tmp_path / "out.musicxml").read_bytes().lstrip().startswith(b"<?xml")
    with pytest.raises(StyleTxError, match=r"write \.mid, \.midi"):
        result.write(tmp_path / "out.txt")
    with pytest.raises(StyleTxError, match=r"write \.mid, \.midi"):  # refused before sampling
        styletx.render(src, tmp_path / "out.txt", style_name, TransferOptions(bars="1000"))
    with pytest.raises(StyleTxError, match="input"):
        result.write(src, force=True)
    with pytest.raises(StyleTxError, match="exists"):
        result.write(tmp_path / "out.musicxml")


def test_options_and_keywords_are_one_thing(style_name: str) -> None:
    style = styletx.load_style(style_name)
    options = TransferOptions(bars="2-3").replace(seed=4, sweeps=1, strength=0.5)
    assert (options.sampler.seed, options.sampler.sweeps, options.bars) == (4, 1, "2-3")
    a = styletx.transfer(INPUTS["pickup.mid"], style, options)
    b = styletx.transfer(INPUTS["pickup.mid"], style, bars="2-3", seed=4, sweeps=1, strength=0.5)
    assert a.midi_bytes() == b.midi_bytes()
    with pytest.raises(StyleTxError, match="strength"):
        options.replace(strength=2.0)
    with pytest.raises(TypeError):
        options.replace(sweep=3)


def _batch_warnings(src: Path, out: Path, style: str, jobs: int,
                    capsys: pytest.CaptureFixture[str]) -> tuple[list[str], dict[str, str]]:
    code = main(["-v", "batch", str(src), "-o", str(out), "--style", style, "--sweeps", "1",
                 "--jobs", str(jobs)])
    assert code == 0
    lines = sorted(line for line in capsys.readouterr().err.splitlines()
                   if line.startswith("styletx: warning:"))
    report = json.loads((out / "styletx-report.json").read_text())
    return lines, {Path(f["input"]).name: f["warnings"] for f in report["files"]}


def test_jobs_do_not_change_the_warnings(style_name: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The same inputs report the same warnings in this process and in worker processes."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("overlapping_same_pitch.mid", "zero_length.mid", "dangling.mid", "pickup.mid"):
        shutil.copy(INPUTS[name], src / name)
    one = _batch_warnings(src, tmp_path / "one", style_name, 1, capsys)
    two = _batch_warnings(src, tmp_path / "two", style_name, 2, capsys)
    assert one == two
    lines, per_file = one
    assert len(lines) == 3  # one line per file with warnings, each reported once
    assert "overlapping" in per_file["overlapping_same_pitch.mid"]
    assert "zero length" in per_file["zero_length.mid"]
    assert "dangling" in per_file["dangling.mid"]
