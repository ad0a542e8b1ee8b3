"""Odd and malformed MIDI: a correct output or a clean StyleTxError, never a crash or a hang.

A fast subset of ``benchmarks/fuzz_corpus.py`` (which runs >= 1,000 files), plus
hypothesis tests of random bytes and random structured files through ``read_midi``.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styletx.cli import main
from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes
from styletx.music.parts import select_parts
from styletx.styles import load_style

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fuzz_corpus", ROOT / "benchmarks/fuzz_corpus.py")
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_corpus"] = fuzz
_spec.loader.exec_module(fuzz)

SUBSET = 150


def test_corpus_is_deterministic_and_covers_every_case() -> None:
    first = list(fuzz.corpus(len(fuzz.CASES), seed=5))
    assert first == list(fuzz.corpus(len(fuzz.CASES), seed=5))
    assert {name.split("_", 1)[1][:-4] for name, _ in first} == {k for k, _ in fuzz.CASES}


def test_corpus_subset_reads_or_fails_cleanly(tiny_style: str) -> None:
    style = load_style(tiny_style)
    outcomes: dict[str, str] = {}
    for i, (name, data) in enumerate(fuzz.corpus(SUBSET, seed=1)):
        outcome = fuzz.check(data, style if i % 15 == 0 else None, limit=20.0)
        outcomes[name] = outcome
    bad = {k: v for k, v in outcomes.items() if v not in ("ok", "error")}
    assert not bad
    assert "ok" in outcomes.values() and "error" in outcomes.values()


def test_cli_render_on_odd_files(tiny_style: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Long valid pieces (long_piece, huge_ticks) are slow to sample, not odd: the corpus
    # test covers them through build_grid.
    slow = ("long_piece", "huge_ticks")
    picked = [item for item in fuzz.corpus(len(fuzz.CASES) * 2, seed=2)
              if not item[0].endswith(tuple(f"{k}.mid" for k in slow))][:20]
    for name, data in picked:
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / f"out_{name}"
        code = main(["render", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1"])
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("styletx: error")]
        assert "internal error" not in err, (name, err)
        if code == 0:
            expected = select_parts(read_midi(src)).melody.notes
            assert read_midi(out).tracks[0].notes == expected, name
        else:
            assert code == 2 and len(errors) == 1 and not out.exists(), (name, err)


def _read_or_clean_error(data: bytes) -> None:
    try:
        song = read_midi(data)
    except StyleTxError:
        return
    try:
        melody = select_parts(song).melody
    except StyleTxError:
        return
    # What was read can be written back, and the melody survives the round trip.
    again = read_midi(midi_bytes(song, [melody]))
    assert again.tracks[0].notes == melody.notes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _read_or_clean_error(data)
    _read_or_clean_error(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + data)


_EVENT = st.tuples(
    st.integers(0, 2000),  # delta ticks
    st.sampled_from([0x80, 0x90, 0x90, 0xB0, 0xC0, 0xFF]),
    st.integers(0, 15),
    st.integers(0, 127),
    st.integers(0, 127),
)


def _track(events: list[tuple[int, int, int, int, int]]) -> bytes:
    body = b""
    for delta, status, ch, a, b in events:
        if status == 0xFF:
            body += fuzz.meta(delta, a % 0x60, bytes([b]) * (a % 5))
        elif status == 0xC0:
            body += fuzz.varlen(delta) + bytes([status | ch, a])
        else:
            body += fuzz.varlen(delta) + bytes([status | ch, a, b])
    return body


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_EVENT, max_size=40), max_size=5),
       st.sampled_from([0, 1, 2]), st.integers(0, 0xFFFF))
def test_random_structured_files(tracks: list, fmt: int, division: int) -> None:
    _read_or_clean_error(fuzz.midi_file([_track(t) for t in tracks], fmt=fmt, division=division))


def test_harness_reports_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*args: object) -> None:
        while True:
            pass

    monkeypatch.setattr(fuzz, "read_midi", slow)
    assert fuzz.check(b"", None, limit=0.2) == "timeout"
    monkeypatch.undo()
    assert fuzz.check(random.Random(0).randbytes(50)) == "error"


# ------------------------------------------------------------------------- MusicXML

SCORE = (ROOT / "tests/fixtures/scores/chord_symbols.musicxml").read_text()
_PART_LIST = ('<part-list><score-part id="P1"><part-name>M</part-name></score-part></part-list>')


def _mxl(member: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("score.musicxml", member)
    return buf.getvalue()


BAD_SCORES: dict[str, Callable[[], bytes]] = {
    "truncated.musicxml": lambda: SCORE[: len(SCORE) // 2].encode(),
    "wrong_root.musicxml": lambda: b'<?xml version="1.0"?><html><body>not a score</body></html>',
    "timewise.musicxml": lambda: b'<?xml version="1.0"?><score-timewise version="3.1"/>',
    "missing_divisions.musicxml": lambda: SCORE.replace("<divisions>12</divisions>", "").encode(),
    "huge_divisions.musicxml": lambda: SCORE.replace("<divisions>12</divisions>",
                                                     "<divisions>1000000000000</divisions>").encode(),
    "zero_divisions.musicxml": lambda: SCORE.replace("<divisions>12</divisions>",
                                                     "<divisions>0</divisions>").encode(),
    "empty_part.musicxml": lambda: (f'<?xml version="1.0"?><score-partwise version="3.1">{_PART_LIST}'
                                    '<part id="P1"></part></score-partwise>').encode(),
    "huge_text_node.musicxml": lambda: SCORE.replace("Chord Symbols", "x" * 100_000_000).encode(),
    "entity_bomb.musicxml": lambda: (
        '<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + f']><score-partwise version="3.1"><work><work-title>&i;</work-title></work>{_PART_LIST}'
        '<part id="P1"/></score-partwise>').encode(),
    "external_entity.musicxml": lambda: (
        '<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<score-partwise version="3.1"><work><work-title>&x;</work-title></work>{_PART_LIST}'
        '<part id="P1"/></score-partwise>').encode(),
    "zip_bomb.mxl": lambda: _mxl(SCORE.replace("Chord Symbols", " " * 200_000_000).encode()),
    "not_a_zip.mxl": lambda: b"PK\x03\x04 this is not really a zip archive",
}


@pytest.mark.parametrize("name", sorted(BAD_SCORES))
def test_bad_scores_get_one_line_and_exit_2(name: str, tiny_style: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / name
    src.write_bytes(BAD_SCORES[name]())
    out = tmp_path / "out.mid"
    for argv in (["info", str(src)], ["render", str(src), "-o", str(out), "--style", tiny_style]):
        t0 = time.perf_counter()
        code = main(argv)
        seconds = time.perf_counter() - t0
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("styletx: error: "), (name, err)
        assert seconds < 10, f"{name}: {seconds:.1f} s (a hang)"
    assert not out.exists()
