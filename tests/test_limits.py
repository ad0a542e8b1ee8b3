"""Honest limits (issue #13): the song's end, stuck notes, meters, tempo maps, progress, -v."""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path

import mido
import pytest

from styletx.api import render
from styletx.cli import format_info, main
from styletx.describe import describe
from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.music.limits import STUCK_QUARTERS, clip_notes, cut_stuck_notes, meter_warning, music_end
from styletx.music.parts import select_parts
from styletx.music.song import Note, Song, TempoChange, TimeSignature, Track
from styletx.music.timing import tick_to_seconds
from styletx.progress import BAR_FORMAT, progress_bar

R = 480
FIXTURES = Path(__file__).parent / "fixtures"
BAR = 4 * R
FIXTURES = Path(__file__).parent / "fixtures"
TUNE = [72, 74, 76, 77, 79, 77, 76, 74, 72, 76, 79, 84, 79, 76, 74, 72] * 2  # 8 bars of 4/4


def eight_bars(stuck_bars: int = 0) -> Song:
    melody = Track("Melody", 73, False, [Note(i * R, i * R + R - 20, p, 90)
                                         for i, p in enumerate(TUNE)], index=0)
    chords = [Note(b * BAR, (b + 1) * BAR, p, 60) for b in range(8) for p in (48, 52, 55)]
    if stuck_bars:
        chords.append(Note(0, stuck_bars * BAR, 36, 70))
    acc = Track("Piano", 0, False, sorted(chords), index=1)
    return Song(R, [melody, acc], [TempoChange(0, 500_000)], [TimeSignature(0, 4, 4)])


def test_a_stuck_note_is_cut_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    song = eight_bars(stuck_bars=1000)
    parts = select_parts(song)
    assert music_end(song, parts) == 8 * BAR
    with caplog.at_level(logging.WARNING, logger="styletx"):
        cut, end = cut_stuck_notes(song, parts)
    assert end == 8 * BAR
    assert max(n.end for t in cut.accompaniment for n in t.notes) == 8 * BAR
    assert max(n.end for n in parts.accompaniment[0].notes) == 1000 * BAR  # input untouched
    assert "1 stuck note(s)" in caplog.text and "end of bar 8" in caplog.text


def test_a_held_final_chord_is_not_stuck() -> None:
    song = eight_bars()
    song.tracks[1].notes.append(Note(7 * BAR, 7 * BAR + STUCK_QUARTERS * R - 1, 43, 60))
    parts = select_parts(song)
    cut, end = cut_stuck_notes(song, parts)
    assert cut.accompaniment[0] is parts.accompaniment[0]
    assert end == 7 * BAR + STUCK_QUARTERS * R - 1


def test_clip_notes() -> None:
    notes = [Note(0, 100, 60, 80), Note(50, 300, 62, 80), Note(200, 250, 64, 80)]
    assert clip_notes(notes, 200) == [Note(0, 100, 60, 80), Note(50, 200, 62, 80)]


def test_render_is_short_and_ends_with_the_song(tiny_style: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    song = eight_bars(stuck_bars=1000)
    src = write_midi(tmp_path / "stuck.mid", song, song.tracks)
    out = tmp_path / "out.mid"
    t0 = time.perf_counter()
    assert main(["render", str(src), "--style", tiny_style, "-o", str(out), "--seed", "0",
                 "--sweeps", "1"]) == 0
    assert time.perf_counter() - t0 < 60  # 1,000 bars of sampling took minutes
    assert "stuck note" in capsys.readouterr().err
    back = read_midi(out)
    assert max(n.end for t in back.tracks for n in t.notes) <= 8 * BAR


@pytest.mark.parametrize("name", ["pickup.mid", "meter_3_4.mid", "tempo_changes.mid"])
def test_accompaniment_never_extends_past_the_song(name: str, tiny_style: str,
                                                   tmp_path: Path) -> None:
    src = read_midi(FIXTURES / name)
    result = render(FIXTURES / name, tmp_path / "out.mid", tiny_style, seed=0, sweeps=1)
    limit = max(n.end for t in src.tracks for n in t.notes)
    assert max(n.end for t in result.tracks for n in t.notes) <= limit


def test_meter_warning() -> None:
    song = eight_bars()
    assert meter_warning(song, ["4/4", "3/4"], "jazz") is None
    assert meter_warning(song, [], "jazz") is None
    song.time_signatures = [TimeSignature(0, 7, 8)]
    line = meter_warning(song, ["4/4", "3/4"], "jazz")
    assert line and "\n" not in line and "7/8" in line and "jazz" in line and "2+2+3" in line


def test_a_pickup_bar_is_not_a_meter() -> None:
    song = read_midi(FIXTURES / "pickup.mid")
    assert [(ts.numerator, ts.denominator) for ts in song.time_signatures][:1] != [(4, 4)]
    assert meter_warning(song, ["4/4"], "jazz") is None
    assert meter_warning(song, ["3/4"], "jazz")  # the piece's own meter is still checked


@pytest.fixture
def four_four_style(tiny_style: str, tmp_path: Path) -> str:
    """A copy of the tiny style, as a folder path, whose ``style.json`` says it was trained on
    4/4 only (a copy: a batch in this process keeps the styles it loaded by name)."""
    import os
    import shutil

    folder = tmp_path / "four-four"
    shutil.copytree(Path(os.environ["STYLETX_MODELS"]) / tiny_style, folder)
    info = json.loads((folder / "style.json").read_text())
    (folder / "style.json").write_text(json.dumps({**info, "meters": ["4/4"]}))
    return str(folder)


def test_render_warns_about_the_meter(four_four_style: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(FIXTURES / "meter_6_8.mid"), "--style", four_four_style, "-o",
                 str(tmp_path / "o.mid"), "--sweeps", "1", "--seed", "0"]) == 0
    err = capsys.readouterr().err
    assert err.count("6/8") == 1 and "trained meters (4/4)" in err
    assert main(["render", str(FIXTURES / "drums.mid"), "--style", four_four_style, "-o",
                 str(tmp_path / "p.mid"), "--sweeps", "1", "--seed", "0"]) == 0
    assert "trained meters" not in capsys.readouterr().err


def test_transfer_logs_the_meter_warning_and_lists_it(four_four_style: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """The meter warning is a ``styletx`` warning like any other: logged, and in the result."""
    from styletx.api import transfer

    with caplog.at_level(logging.WARNING, logger="styletx"):
        result = transfer(FIXTURES / "meter_6_8.mid", four_four_style, sweeps=1, seed=0)
    meter = [m for m in result.warnings if "trained meters (4/4)" in m]
    assert len(meter) == 1 and "6/8 (from bar 1)" in meter[0]
    assert meter[0] in [" ".join(r.getMessage().split()) for r in caplog.records]
    quiet = transfer(FIXTURES / "drums.mid", four_four_style, sweeps=1, seed=0)
    assert not any("trained meters" in m for m in quiet.warnings)


def test_batch_reports_the_meter_warning(four_four_style: str, tmp_path: Path) -> None:
    from styletx.api import TransferOptions
    from styletx.batch import BatchOptions, run_batch

    src = tmp_path / "in"
    src.mkdir()
    for name in ("meter_6_8.mid", "drums.mid"):
        (src / name).write_bytes((FIXTURES / name).read_bytes())
    options = BatchOptions(style=four_four_style, transfer=TransferOptions().replace(sweeps=1))
    report = run_batch([src], tmp_path / "out", options, progress=False)
    warned = {Path(f.input).name: f.warnings for f in report.results}
    assert "6/8 (from bar 1) is not among the" in warned["meter_6_8.mid"]
    assert "trained meters" not in warned["drums.mid"]


def _linear_seconds(song: Song, tick: int) -> float:
    """The old O(n) reference: walk the tempo map from the start."""
    tempos = sorted({t.tick: t for t in [TempoChange(0, 500_000), *song.tempos]}.values(),
                    key=lambda t: t.tick)
    seconds = 0.0
    for here, after in zip(tempos, [*tempos[1:], None], strict=True):
        stop = tick if after is None else min(tick, after.tick)
        if stop <= here.tick:
            break
        seconds += (stop - here.tick) * here.us_per_quarter / 1e6 / song.resolution
    return seconds


def test_tempo_map_matches_the_reference_and_is_fast() -> None:
    song = eight_bars()
    song.tempos = [TempoChange(i * 24, 400_000 + (i * 7919) % 300_000) for i in range(20_000)]
    for tick in (0, 1, 23, 24, 25, 4_799, 250_000, 479_999, 480_000, 600_000):
        assert tick_to_seconds(song, tick) == pytest.approx(_linear_seconds(song, tick), rel=1e-12)
    t0 = time.perf_counter()
    text = format_info(describe(song, select_parts(song)))
    assert time.perf_counter() - t0 < 10  # quadratic: minutes
    assert text.count(" bpm") >= 20_000


def test_info_on_many_tempo_changes_via_the_cli(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    mid = mido.MidiFile(ticks_per_beat=R)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=400_000 + i % 300,
                                                       time=0 if i == 0 else 24)
                                      for i in range(20_000)]))
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=72, velocity=90),
                                      mido.Message("note_off", note=72, time=R)]))
    buf = io.BytesIO()
    mid.save(file=buf)
    path = tmp_path / "tempos.mid"
    path.write_bytes(buf.getvalue())
    t0 = time.perf_counter()
    assert main(["info", str(path), "--json"]) == 0
    assert time.perf_counter() - t0 < 10
    assert len(json.loads(capsys.readouterr().out)["tempos"]) == 20_000


def test_progress_bar_is_quiet_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("x", delay=0.0) as update:  # pytest's stderr is not a terminal
        for i in range(5):
            update(i * 1000, 5000)
    assert capsys.readouterr().err == ""
    assert "rate" not in BAR_FORMAT


def test_progress_bar_shows_no_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("x", delay=0.0, enabled=True) as update:
        update(0, 5)
        update(5, 5)
    err = capsys.readouterr().err
    assert "x:" in err and "/s" not in err


def test_verbose_flag_prints_every_warning(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLETX_DEBUG", raising=False)
    path = str(FIXTURES / "dangling.mid")
    assert main(["info", path]) == 0
    quiet = capsys.readouterr().err
    assert main(["info", path, "-v"]) == 0
    loud = capsys.readouterr().err
    assert main(["-v", "info", path]) == 0
    assert capsys.readouterr().err == loud
    assert quiet.count("\n") == 1 and "warning" in loud
