"""Algorithm 1, `styletx.transfer` and `styletx render`, on the tiny untrained style.

Untrained weights are enough to prove the contracts that do not depend on
musical quality: the melody survives bit for bit, seeds reproduce bytes,
strength 0 and bar ranges leave what they must alone.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

import styletx
from styletx.api import TransferOptions, parse_bars, transfer_song
from styletx.cli import main
from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.model.sampler import SamplerSettings, resample_accompaniment
from styletx.music.arrange import fold_into_range
from styletx.music.encoding import HOLD, META_CHORD, OFF
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.music.song import Track
from styletx.styles import load_style

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "midi_samples"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
VALID = sorted(name for name, e in EXPECTED.items() if "error" not in e)
FAST = SamplerSettings(sweeps=2, seed=3)


def melody_of(path: Path) -> Track:
    return select_parts(read_midi(path)).melody


@pytest.mark.parametrize("name", [*VALID, "chorale"])
def test_melody_is_bit_identical_after_render(name: str, tiny_style: str, tmp_path: Path) -> None:
    src = SAMPLES / "chorale_bwv254.mid" if name == "chorale" else FIXTURES / name
    out = tmp_path / "out.mid"
    styletx.render(src, out, tiny_style, seed=1, sweeps=1)
    before = melody_of(src)
    after = read_midi(out).tracks[0]  # the melody is written first
    assert after.notes == before.notes
    assert (after.name, after.program) == (before.name, before.program)
    song_in, song_out = read_midi(src), read_midi(out)
    assert song_out.resolution == song_in.resolution
    assert song_out.tempos == song_in.tempos
    assert song_out.time_signatures == song_in.time_signatures
    assert song_out.key_signatures == song_in.key_signatures


def test_same_seed_same_bytes(tiny_style: str, tmp_path: Path) -> None:
    src = SAMPLES / "waltz_in_g.mid"
    for name in ("a.mid", "b.mid"):
        styletx.render(src, tmp_path / name, tiny_style, seed=42, sweeps=2)
    styletx.render(src, tmp_path / "c.mid", tiny_style, seed=43, sweeps=2)
    assert (tmp_path / "a.mid").read_bytes() == (tmp_path / "b.mid").read_bytes()
    assert (tmp_path / "a.mid").read_bytes() != (tmp_path / "c.mid").read_bytes()


def test_strength_zero_keeps_the_input_accompaniment(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    result = transfer_song(song, style, TransferOptions(SamplerSettings(strength=0.0, seed=0)))
    cfg = style.model.cfg
    expected = fold_into_range(result.grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    assert np.array_equal(result.new_accomp[:, cfg.pitch_lo : cfg.pitch_hi], expected)


def test_bars_leave_the_rest_untouched(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    parts = select_parts(song)
    result = transfer_song(song, style, TransferOptions(FAST, bars=(5, 8)))
    grid = result.grid
    lo_tick = grid.frame_tick(int(np.argmax(grid.bar_index == 4)))
    hi_tick = grid.frame_tick(int(np.argmax(grid.bar_index == 8)))
    inside = lambda n: lo_tick <= n.start < hi_tick  # noqa: E731
    original_outside = sorted(n for t in parts.accompaniment for n in t.notes if not inside(n))
    out_acc = [t for t in result.tracks[1:] if not t.is_drum]
    outside_out = sorted(n for t in out_acc for n in t.notes if not inside(n))
    assert outside_out == original_outside
    assert any(inside(n) for t in out_acc for n in t.notes)


def test_melody_only_input_gets_an_accompaniment(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(FIXTURES / "melody_only.mid")
    result = transfer_song(song, style, TransferOptions(FAST))
    assert result.notes and "harmonising" in result.notes[0]
    assert sum(len(t.notes) for t in result.tracks[1:]) > 0


def test_transfer_api_accepts_paths_prettymidi_and_music21(tiny_style: str) -> None:
    src = SAMPLES / "waltz_in_g.mid"
    style = styletx.load_style(tiny_style)
    a = styletx.transfer(src, style, seed=5, sweeps=1)
    b = styletx.transfer(pretty_midi.PrettyMIDI(str(src)), style, seed=5, sweeps=1)
    assert isinstance(a, styletx.TransferResult) and isinstance(b, styletx.TransferResult)
    assert a.tracks[0].notes == b.tracks[0].notes == melody_of(src).notes
    import music21

    stream = music21.converter.parse(str(src))
    c = styletx.transfer(stream, style, seed=5, sweeps=1)
    assert len(c.tracks[0].notes) > 0
    assert tiny_style in styletx.styles()


def test_sampler_respects_update_mask_and_gives_valid_rolls(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "chorale_bwv254.mid")
    grid = build_grid(song, select_parts(song), style.steps_per_beat)
    cfg = style.model.cfg
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    update = np.zeros(grid.n_frames, dtype=bool)
    update[16:48] = True
    for schedule in ("default", "paper"):
        settings = SamplerSettings(schedule=schedule, sweeps=2, paper_iterations=2, seed=0)
        out = resample_accompaniment(style.model, grid.melody.astype(np.int64), start,
                                     grid.meta(), update=update, settings=settings)
        assert np.array_equal(out[~update], start[~update])
        assert not ((out[1:] == HOLD) & (out[:-1] == OFF)).any()
        assert not (out[0] == HOLD).any()
        again = resample_accompaniment(style.model, grid.melody.astype(np.int64), start,
                                       grid.meta(), update=update, settings=settings)
        assert np.array_equal(out, again)


def test_sampler_never_writes_the_melody_or_the_chord_track(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "chorale_bwv254.mid")
    grid = build_grid(song, select_parts(song), style.steps_per_beat)
    cfg = style.model.cfg
    melody, meta = grid.melody.astype(np.int64), grid.meta()
    melody_before, meta_before = melody.copy(), meta.copy()
    assert (meta[:, META_CHORD] > 0).any()
    start = fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi)
    resample_accompaniment(style.model, melody, start, meta, settings=SamplerSettings(sweeps=2, seed=1))
    assert np.array_equal(melody, melody_before) and np.array_equal(meta, meta_before)


def test_parse_bars() -> None:
    assert parse_bars("5-12") == (5, 12)
    assert parse_bars("7") == (7, 7)
    for bad in ("0-3", "5-2", "x"):
        with pytest.raises(StyleTxError):
            parse_bars(bad)


def test_cli_render_writes_and_reports(tiny_style: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.mid"
    code = main(["render", str(SAMPLES / "waltz_in_g.mid"), "--style", tiny_style, "-o", str(out),
                 "--seed", "1", "--sweeps", "1"])
    assert code == 0 and out.exists()
    assert "wrote" in capsys.readouterr().out
    # an existing output is kept without --force
    assert main(["render", str(SAMPLES / "waltz_in_g.mid"), "--style", tiny_style, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists" in err[0]


@pytest.mark.parametrize("bad", ["corrupt.mid", "empty.mid", "drums_only.mid", "not_midi.mid"])
def test_cli_render_bad_input_is_one_line(bad: str, tiny_style: str, tmp_path: Path, capsys) -> None:
    code = main(["render", str(FIXTURES / bad), "--style", tiny_style, "-o", str(tmp_path / "o.mid")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("styletx: error:")
    assert not (tmp_path / "o.mid").exists()


def test_unknown_style_lists_valid_ones(tiny_style: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "styletx", "render", str(SAMPLES / "waltz_in_g.mid"),
         "--style", "nope", "-o", str(tmp_path / "o.mid")],
        capture_output=True, text=True,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1
    assert "unknown style 'nope'" in lines[0] and tiny_style in lines[0]


def test_render_never_overwrites_its_input(tiny_style: str, tmp_path: Path) -> None:
    src = tmp_path / "in.mid"
    src.write_bytes((SAMPLES / "waltz_in_g.mid").read_bytes())
    before = src.read_bytes()
    with pytest.raises(StyleTxError):
        styletx.render(src, src, tiny_style, force=True, sweeps=1)
    assert src.read_bytes() == before
    assert pretty_midi.PrettyMIDI(io.BytesIO(before)).instruments


def test_a_skyline_melody_nobody_asked_for_is_said_in_one_note(tiny_style: str) -> None:
    style = load_style(tiny_style)
    song = read_midi(SAMPLES / "waltz_in_g.mid")
    pitched = [t for t in song.tracks if not t.is_drum]
    merged = Track("Piano", 0, False, sorted(n for t in pitched for n in t.notes), 0)
    piano = type(song)(song.resolution, [merged], song.tempos, song.time_signatures, song.key_signatures)
    result = transfer_song(piano, style, TransferOptions(FAST))
    assert [n for n in result.notes if "skyline" in n] and "\n" not in result.notes[0]
    asked = transfer_song(piano, style, TransferOptions(FAST, melody_track="skyline"))
    assert not [n for n in asked.notes if "skyline" in n]
    plain = transfer_song(song, style, TransferOptions(FAST))
    assert not [n for n in plain.notes if "skyline" in n]
