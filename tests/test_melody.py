"""Melody choice (issue #13): the part a musician calls the melody, or a clear "none"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from styletx.cli import main
from styletx.errors import NoMelodyError
from styletx.io.reader import read_midi
from styletx.music.melody import candidates
from styletx.music.parts import select_parts, skyline
from styletx.music.song import Note, Song, TimeSignature, Track

R = 480
BAR = 4 * R
MMA = Path("/usr/share/doc/mma/examples")
ROOT = Path(__file__).resolve().parents[1]
# A 16-bar tune with varied rhythm and mostly stepwise motion.
TUNE_PITCHES = [67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 65, 67, 71, 69, 67] * 4
TUNE_LENGTHS = [R, R // 2, R // 2, R, 2 * R, R, R, R // 2, R // 2, R, 2 * R, R, R, R, R, 2 * R] * 4
CHORD_ROOTS = [48, 53, 55, 48] * 4


def tune(transpose: int = 0) -> list[Note]:
    out, t = [], 0
    for p, d in zip(TUNE_PITCHES, TUNE_LENGTHS, strict=True):
        out.append(Note(t, t + d - 20, p + transpose, 90))
        t += d
    return out


def bass() -> list[Note]:
    return [Note(b * BAR + k * R, b * BAR + (k + 1) * R - 10, r - 12 + (0, 7, 12, 7)[k], 80)
            for b, r in enumerate(CHORD_ROOTS) for k in range(4)]


def block_chords(octave: int = 0) -> list[Note]:
    return [Note(b * BAR + k * R, b * BAR + (k + 1) * R - 10, r + i + octave, 60)
            for b, r in enumerate(CHORD_ROOTS) for k in range(4) for i in (12, 16, 19)]


def arpeggio() -> list[Note]:
    return [Note(b * BAR + k * R // 2, b * BAR + (k + 1) * R // 2 - 5, r + 24 + (0, 4, 7, 12)[k % 4], 55)
            for b, r in enumerate(CHORD_ROOTS) for k in range(8)]


def song(*tracks: Track, lyrics: list[tuple[int, str]] | None = None) -> Song:
    for i, t in enumerate(tracks):
        t.index = i
    return Song(R, list(tracks), time_signatures=[TimeSignature(0, 4, 4)], lyrics=lyrics or [])


def test_mma_song_file_picks_the_aria_not_the_bass() -> None:
    s = song(Track("Bass", 32, False, bass()), Track("Aria", 73, False, tune()),
             Track("Chord", 0, False, block_chords()))
    parts = select_parts(s)
    assert parts.melody.name == "Aria"
    assert "runner-up" in parts.reason and "margin" in parts.reason
    assert parts.ranking[0][0] == "part 1 'Aria'"


def test_unnamed_parts_register_and_program_decide() -> None:
    s = song(Track("", 33, False, bass()), Track("", 0, False, block_chords()),
             Track("", 65, False, tune()))
    assert select_parts(s).melody.index == 2


def test_two_staff_piano_takes_the_right_hand_skyline() -> None:
    right = tune() + [Note(n.start, n.end, n.pitch - 5, 60) for n in tune()[::2]]
    left = bass()
    s = song(Track("Piano", 0, False, sorted(right)), Track("Piano", 0, False, left))
    parts = select_parts(s)
    assert parts.melody.origin == 0 and "skyline" in parts.reason
    assert parts.melody.notes == tune()
    # The rest of the right hand stays in the accompaniment, with the left hand.
    assert sum(len(t.notes) for t in parts.accompaniment) == len(right) - len(tune()) + len(left)


def test_no_melody_raises_one_clear_line() -> None:
    s = song(Track("Bass", 32, False, bass()), Track("Chord", 0, False, block_chords()),
             Track("Pad", 89, False, [Note(b * BAR, (b + 1) * BAR, p, 50)
                                      for b, r in enumerate(CHORD_ROOTS) for p in (r + 7, r + 12)]))
    with pytest.raises(NoMelodyError) as err:
        select_parts(s)
    message = str(err.value)
    assert "no part clearly carries a melody" in message and "\n" not in message
    assert "--melody-track" in message and "--melody skyline" in message
    assert err.value.ranking and err.value.ranking[0][1] < 1


def test_karaoke_lyrics_point_to_the_sung_part() -> None:
    words = [(n.start, "la") for n in tune(-5)]
    s = song(Track("", 0, False, tune(-5)), Track("", 33, False, bass()),
             Track("", 0, False, block_chords(12)), Track("", 25, False, arpeggio()),
             lyrics=words)
    assert select_parts(s).melody.index == 0


def test_karaoke_without_a_melody_track_is_flagged() -> None:
    words = [(n.start, "la") for n in tune()]
    s = song(Track("Bass", 33, False, bass()), Track("Piano", 0, False, block_chords()),
             Track("Arp", 25, False, arpeggio()), lyrics=words)
    with pytest.raises(NoMelodyError):
        select_parts(s)


def test_explicit_choices_still_win() -> None:
    s = song(Track("Bass", 32, False, bass()), Track("Chord", 0, False, block_chords()))
    assert select_parts(s, 0).melody.name == "Bass"
    sky = select_parts(s, "skyline")
    top = {n.start: n.pitch for n in sorted(bass() + block_chords(), key=lambda n: n.pitch)}
    assert {n.start: n.pitch for n in sky.melody.notes} == top
    assert "skyline" in sky.reason and len(sky.accompaniment) == 1


def test_candidates_are_sorted_and_scored() -> None:
    s = song(Track("Bass", 32, False, bass()), Track("Melody", 73, False, tune()))
    ranked = candidates(s, s.tracks, skyline)
    assert [c.part.name for c in ranked] == ["Melody", "Bass"]
    assert ranked[0].score > ranked[1].score
    assert ranked[1].features["program"] < 0 and ranked[1].features["name"] < 0


@pytest.mark.skipif(not MMA.exists(), reason="Debian's mma examples are not installed")
@pytest.mark.parametrize(("path", "want"), [("aria/girl.mid", "Aria"), ("solo/solo.mid", "Solo"),
                                            ("lyrics/twinkle.mid", None),
                                            ("tutorial/fella1.mid", None)])
def test_real_mma_files(path: str, want: str | None) -> None:
    s = read_midi(MMA / path)
    if want is None:
        with pytest.raises(NoMelodyError):
            select_parts(s)
    else:
        melody = select_parts(s).melody
        index = melody.index if melody.index >= 0 else melody.origin
        assert s.tracks[index].name == want


def test_info_several_files_and_no_melody(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from styletx.io.writer import write_midi

    s = song(Track("Bass", 32, False, bass()), Track("Chord", 0, False, block_chords()))
    none = write_midi(tmp_path / "none.mid", s, s.tracks)
    fixtures = Path(__file__).parent / "fixtures"
    assert main(["info", str(fixtures / "drums.mid"), str(none)]) == 0
    out = capsys.readouterr().out
    assert out.count("MIDI type") == 2
    assert "melody: none: no part clearly carries a melody" in out
    assert main(["info", str(fixtures / "drums.mid"), str(none), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["melody"]["index"] for r in reports] == [0, None]
    assert main(["info", str(none), "--melody", "skyline", "--json"]) == 0
    assert "skyline" in json.loads(capsys.readouterr().out)["melody"]["reason"]
    # A bad file among several: one error line, the others reported, exit 2.
    assert main(["info", str(fixtures / "corrupt.mid"), str(fixtures / "drums.mid")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "MIDI type" in captured.out


def test_render_refuses_without_a_melody(tmp_path: Path, tiny_style: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from styletx.io.writer import write_midi

    s = song(Track("Bass", 32, False, bass()), Track("Chord", 0, False, block_chords()))
    src = write_midi(tmp_path / "none.mid", s, s.tracks)
    out = tmp_path / "out.mid"
    assert main(["render", str(src), "--style", tiny_style, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no part clearly carries a melody" in err and not out.exists()
    assert main(["render", str(src), "--style", tiny_style, "-o", str(out), "--melody",
                 "skyline", "--sweeps", "1"]) == 0
    assert out.exists()


def test_a_name_and_program_every_part_shares_do_not_count() -> None:
    # a string ensemble: every part is "String Ensemble 1" on program 48, the tune on top
    name = "String Ensemble 1"
    s = song(Track(name, 48, False, tune(5)), Track(name, 48, False, block_chords()),
             Track(name, 48, False, bass()))
    ranked = candidates(s, s.tracks, skyline)
    assert all(c.features["name"] == 0.0 and c.features["program"] == 0.0 for c in ranked)
    assert select_parts(s).melody.index == 0
    # one part named otherwise: the names differ, so they count again
    s.tracks[2].name = "Bass"
    assert next(c for c in candidates(s, s.tracks, skyline) if c.part.index == 2).features["name"] < 0
