"""The performance layer (#20): a style's feel is learned from played data and played back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from styletx.api import TransferOptions, transfer_song
from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.music.performance import Feel, Observations, perform
from styletx.music.song import Note, Parts, Song, TempoChange, TimeSignature, Track
from styletx.stylefolder.format import FEEL_FILE, StyleFolder
from styletx.styles import load_style

ROOT = Path(__file__).resolve().parents[1]
RES = 480
STRUM = (0.023, 0.055, 0.078)  # beats after the beat, lowest note first (a Swing guitar's strum)
BASS_VELOCITY = {0: 110, 1: 70, 2: 86, 3: 70}  # by beat of the bar: the accent pattern
PLAYED = 216  # ticks a chord note is held: 0.45 beat, on the grid half a beat


def _song(bars: int, *, played: bool, melody_velocity: int | list[int] = 100) -> tuple[Song, Parts]:
    """A 4/4 song: a melody in eighths, a bass on every beat with a fixed accent pattern, and a
    strummed three-note chord on beats 2 and 4, as played (:data:`PLAYED`) or on the grid."""
    vel = [melody_velocity] * bars if isinstance(melody_velocity, int) else melody_velocity
    melody = [Note(b * 4 * RES + i * RES // 2, b * 4 * RES + (i + 1) * RES // 2, 72 + i % 5, vel[b])
              for b in range(bars) for i in range(8)]
    bass, comp = [], []
    for b in range(bars):
        for beat in range(4):
            t = (b * 4 + beat) * RES
            bass.append(Note(t, t + RES, 36 + beat, BASS_VELOCITY[beat]))
            if beat in (1, 3):
                for rank, p in enumerate((60, 64, 67)):
                    shift = round(STRUM[rank] * RES) if played else 0
                    comp.append(Note(t + shift, t + shift + (PLAYED if played else RES // 2), p, 64))
    tracks = [Track("melody", 0, False, melody), Track("bass", 32, False, bass),
              Track("comp", 0, False, comp)]
    song = Song(resolution=RES, tracks=tracks, tempos=[TempoChange(0, 500_000)],
                time_signatures=[TimeSignature(0, 4, 4)])
    return song, Parts(melody=tracks[0], accompaniment=tracks[1:], drums=[], reason="test")


def _fitted(pieces: int = 3, bars: int = 16) -> Feel:
    obs = Observations()
    for _ in range(pieces):
        song, parts = _song(bars, played=True)
        obs.add(parts.melody, parts.accompaniment, build_grid(song, parts, 4), 4, 52)
    return obs.fit(4, "test data")


def _play(feel: Feel, *, melody_velocity: int | list[int] = 100, balance: float | None = None,
          bars: int = 8) -> tuple[list[Track], list[Track], Parts]:
    song, parts = _song(bars, played=False, melody_velocity=melody_velocity)
    grid = build_grid(song, parts, 4)
    scored, played = perform(parts.accompaniment, grid, parts.melody, feel, np.random.default_rng(0),
                             bass_max_pitch=52, balance=balance)
    return scored, played, parts


def test_a_fixed_accent_pattern_is_learned_back() -> None:
    feel = _fitted()
    assert feel.gap == pytest.approx(100 - np.mean([*BASS_VELOCITY.values(), *[64] * 6]), abs=0.01)
    scored, played, _ = _play(feel)
    bass = {n.start % (4 * RES) // RES: n.velocity for n in played[0].notes}
    assert bass == BASS_VELOCITY
    assert {n.velocity for n in played[1].notes} == {64}
    # the played length (0.9 of the grid's) is learned too; the notation keeps the grid's
    assert {n.end - n.start for n in played[1].notes} == {PLAYED}
    assert {n.end - n.start for n in scored[1].notes} == {RES // 2}
    assert all(n.start % RES == 0 for n in scored[1].notes)


def test_a_strummed_chords_spread_is_reproduced() -> None:
    _, played, _ = _play(_fitted())
    comp = played[1].notes
    for chord_start in sorted({n.start // RES * RES for n in comp}):
        chord = sorted((n for n in comp if n.start // RES * RES == chord_start), key=lambda n: n.pitch)
        offsets = [(n.start - chord_start) / RES for n in chord]
        assert offsets == pytest.approx(STRUM, abs=1.5 / RES)
    # the bass was played on the beat, and stays there
    assert all(n.start % RES == 0 for n in played[0].notes)


def test_balance_follows_a_melody_crescendo() -> None:
    crescendo = list(np.linspace(40, 120, 16).round().astype(int))
    for feel, gap in ((Feel.even(4), 10.0), (_fitted(), 25.0)):
        _, played, parts = _play(feel, melody_velocity=crescendo, balance=gap, bars=16)
        acc = [n for t in played for n in t.notes]
        per_bar = [np.mean([n.velocity for n in acc if n.start // (4 * RES) == b]) for b in range(16)]
        assert np.corrcoef(per_bar, crescendo)[0, 1] > 0.95
        assert per_bar[-1] - per_bar[0] > 50
        melody_mean = np.mean([n.velocity for n in parts.melody.notes])
        assert np.mean([n.velocity for n in acc]) == pytest.approx(melody_mean - gap, abs=3)


def test_an_even_feel_plays_on_the_grid_under_the_melody() -> None:
    scored, played, _ = _play(Feel.even(4, gap=12.0))
    assert played == scored
    assert {n.velocity for t in played for n in t.notes} == {88}


@pytest.fixture
def felt_style(_tiny_models: Path, tmp_path: Path) -> Path:
    """The tiny style with a feel fitted on the accent data."""
    directory = tmp_path / "felt"
    shutil.copytree(_tiny_models / "tiny", directory)
    StyleFolder(directory).write_feel(_fitted())
    return directory


def _notes(tracks: list[Track]) -> list[tuple[str, list[Note]]]:
    return [(t.name, t.notes) for t in tracks]


def test_quantized_is_the_layer_off_and_the_melody_is_exact_under_every_option(
        _tiny_models: Path, felt_style: Path) -> None:
    song = read_midi(ROOT / "midi_samples" / "chorale_bwv254.mid")
    melody = select_parts(song).melody.notes
    plain, felt = load_style(_tiny_models / "tiny"), load_style(felt_style)
    assert plain.feel is None and felt.feel is not None
    base = TransferOptions().replace(seed=3, sweeps=1)
    off = transfer_song(song, plain, base)
    quantized = transfer_song(song, felt, base.replace(quantized=True))
    assert _notes(quantized.tracks) == _notes(off.tracks)
    on = transfer_song(song, felt, base)
    assert _notes(on.tracks) != _notes(off.tracks)
    # the same notes as the layer-off output, only played: notation is the grid's
    assert [[(n.start, n.end, n.pitch) for n in t.notes] for t in on.score_tracks] == \
        [[(n.start, n.end, n.pitch) for n in t.notes] for t in off.tracks]
    for options in (base, base.replace(quantized=True), base.replace(balance=0), base.replace(balance=40),
                    base.replace(bars="2-3")):
        for style in (plain, felt):
            result = transfer_song(song, style, options)
            assert result.tracks[0].notes == melody
            assert result.score_tracks[0].notes == melody


def test_balance_on_a_style_without_a_feel_keeps_the_grid(_tiny_models: Path) -> None:
    song = read_midi(ROOT / "midi_samples" / "chorale_bwv254.mid")
    style = load_style(_tiny_models / "tiny")
    result = transfer_song(song, style, TransferOptions(balance=20).replace(seed=1, sweeps=1))
    off = transfer_song(song, style, TransferOptions().replace(seed=1, sweeps=1))
    assert [[(n.start, n.end, n.pitch) for n in t.notes] for t in result.tracks] == \
        [[(n.start, n.end, n.pitch) for n in t.notes] for t in off.tracks]
    acc = [n.velocity for t in result.tracks[1:] for n in t.notes]
    melody = [n.velocity for n in result.tracks[0].notes]
    assert np.mean(acc) == pytest.approx(np.mean(melody) - 20, abs=3)


def test_the_feel_file_round_trips_and_an_old_folder_loads_without_it(
        _tiny_models: Path, felt_style: Path) -> None:
    feel = _fitted()
    again = StyleFolder(felt_style).read_feel()
    assert again == Feel.from_dict(json.loads(json.dumps(feel.to_dict())))
    assert again is not None and again.gap == pytest.approx(feel.gap, abs=1e-3)
    assert not (_tiny_models / "tiny" / FEEL_FILE).exists()
    assert StyleFolder(_tiny_models / "tiny").read_feel() is None
    assert load_style(_tiny_models / "tiny").feel is None


def test_a_tiny_training_run_gives_a_user_style_its_own_feel(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from styletx.cli import main

    monkeypatch.setenv("STYLETX_USER_STYLES", str(tmp_path / "users"))
    data = tmp_path / "data"
    data.mkdir()
    for k in range(3):
        song, _ = _song(16, played=True)
        write_midi(data / f"s{k}.mid", song, song.tracks)
    tiny = json.dumps({"lstm_hidden": 8, "lstm_layers": 1, "gen_channels": 4, "gen_dilations": [1, 2],
                       "melody_dim": 4, "accomp_dim": 4, "frame_dim": 8, "center_dim": 4, "cond_dim": 8})
    assert main(["train", "--style", "mine", "--data", str(data), "--scratch", "--epochs", "1",
                 "--max-steps-per-epoch", "1", "--batch-size", "2", "--model", tiny, "--quiet",
                 "--device", "cpu", "--melody-track", "melody"]) == 0
    feel = load_style("mine").feel
    assert feel is not None and not feel.is_even
    _, played, _ = _play(feel)
    assert {n.start % (4 * RES) // RES: n.velocity for n in played[0].notes} == BASS_VELOCITY
    assert "Feel" in (tmp_path / "users" / "mine" / "MODEL_CARD.md").read_text()


def test_the_wav_preview_plays_the_offsets_and_the_plot_shades_velocities(tmp_path: Path) -> None:
    from styletx.io.writer import midi_bytes
    from styletx.preview import SAMPLE_RATE, plot_piano_roll, synthesize, velocity_shades

    scored, played, parts = _play(_fitted(), bars=2)
    song, _ = _song(2, played=False)

    def first_sound(tracks: list[Track]) -> int:
        audio = np.abs(synthesize(midi_bytes(song, tracks)).astype(int)).max(axis=1)
        return int(np.argmax(audio > 200))

    delay = first_sound([played[1]]) - first_sound([scored[1]])
    assert delay / SAMPLE_RATE == pytest.approx(STRUM[0] * 0.5, abs=0.002)  # 120 bpm: 0.5 s a beat
    bar = played[0].notes[:4]
    alpha = velocity_shades("#1f77b4", bar)[:, 3]
    velocities = [n.velocity for n in bar]
    assert list(np.argsort(alpha, kind="stable")) == list(np.argsort(velocities, kind="stable"))
    assert alpha.max() > alpha.min()
    write_midi(tmp_path / "felt.mid", song, [parts.melody, *played])
    assert plot_piano_roll([tmp_path / "felt.mid"], tmp_path / "felt.png").stat().st_size > 0


def test_batch_and_render_carry_quantized_and_balance(_tiny_models: Path, felt_style: Path,
                                                      tmp_path: Path) -> None:
    from styletx.cli import main

    src = ROOT / "midi_samples" / "chorale_bwv254.mid"
    runs = {"plain": ["--style-dir", str(_tiny_models / "tiny")],
            "quantized": ["--style-dir", str(felt_style), "--quantized"],
            "balance": ["--style-dir", str(felt_style), "--balance", "25"]}
    for name, flags in runs.items():
        assert main(["batch", str(src), "-o", str(tmp_path / name), "--sweeps", "1", *flags]) == 0
    out = {name: read_midi(next((tmp_path / name).rglob("*.mid"))) for name in runs}
    assert _notes(out["quantized"].tracks) == _notes(out["plain"].tracks)
    song = out["balance"]
    acc = [n.velocity for t in song.tracks[1:] for n in t.notes]
    assert np.mean(acc) == pytest.approx(np.mean([n.velocity for n in song.tracks[0].notes]) - 25, abs=3)
    assert main(["render", str(src), "-o", str(tmp_path / "r.mid"), "--style-dir", str(felt_style),
                 "--sweeps", "1", "--seed", "0", "--balance", "25"]) == 0
    assert read_midi(tmp_path / "r.mid").tracks[0].notes == select_parts(read_midi(src)).melody.notes
