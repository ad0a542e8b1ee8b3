"""styletx.io.smf: same events as mido on every valid file, SmfError (only) on bad bytes, and fast.

mido is the reference: for each file both accept, the notes, programs, maps,
track names and track lengths must be equal, in order; where only one of them
accepts, it must be one of the differences documented in :mod:`styletx.io.smf`.
"""

from __future__ import annotations

import io
import struct
from functools import cache
from pathlib import Path
from typing import Any

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styletx.io.smf import SmfError, SmfFile, parse_smf
from styletx.io.writer import midi_bytes
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "tests/fixtures").glob("*.mid")) + sorted((ROOT / "midi_samples").glob("*.mid"))
BAD_FIXTURES = {"corrupt.mid", "corrupt_track.mid", "not_midi.mid", "truncated.mid"}

# mido's key names by (sharps/flats, mode), written out independently of both parsers.
_MAJOR = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
_MINOR = ["Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m"]
KEY_NAME = {(sf, mode): names[sf + 7] for mode, names in enumerate((_MAJOR, _MINOR)) for sf in range(-7, 8)}

View = list[dict[str, Any]]


def mido_view(mid: mido.MidiFile) -> View:
    """Walk mido's tracks, accumulating delta times, into the same shape as :func:`smf_view`."""
    out = []
    for track in mid.tracks:
        t: dict[str, Any] = {k: [] for k in ("notes", "programs", "tempos", "meters", "keys", "names")}
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on":
                t["notes"].append((tick, msg.channel, msg.note, msg.velocity))
            elif msg.type == "note_off":
                t["notes"].append((tick, msg.channel, msg.note, 0))
            elif msg.type == "program_change":
                t["programs"].append((tick, msg.channel, msg.program))
            elif msg.type == "set_tempo":
                t["tempos"].append((tick, msg.tempo))
            elif msg.type == "time_signature":
                t["meters"].append((tick, msg.numerator, msg.denominator))
            elif msg.type == "key_signature":
                t["keys"].append((tick, msg.key))
            elif msg.type == "track_name":
                t["names"].append((tick, msg.name))
        t["end"] = tick
        out.append(t)
    return out


def smf_view(smf: SmfFile) -> View:
    """The parsed tracks as plain lists (keys as mido's names), for comparison with :func:`mido_view`."""
    return [{
        "notes": tr.notes, "programs": tr.programs, "tempos": tr.tempos, "meters": tr.time_signatures,
        "keys": [(tick, KEY_NAME[sf, mode]) for tick, sf, mode in tr.key_signatures],
        "names": tr.names, "end": tr.end_tick,
    } for tr in smf.tracks]


def assert_same_as_mido(data: bytes) -> SmfFile | None:
    """Parse with both; equal results when both accept, else a documented difference. Returns ours."""
    try:
        ours: SmfFile | None = parse_smf(data)
        error = None
    except SmfError as e:
        ours, error = None, e
    try:
        theirs: mido.MidiFile | None = mido.MidiFile(file=io.BytesIO(data))
    except Exception:
        theirs = None
    if ours is not None and theirs is not None:
        assert (ours.format, ours.division) == (theirs.type & 0xFFFF, theirs.ticks_per_beat)
        for a, b, track in zip(smf_view(ours), mido_view(theirs), theirs.tracks, strict=True):
            if any(msg.type == "unknown_meta" for msg in track):  # mido drops their delta times
                assert {k: [e[1:] for e in v] for k, v in a.items() if k != "end"} == \
                    {k: [e[1:] for e in v] for k, v in b.items() if k != "end"}
            else:
                assert a == b
    elif ours is None and theirs is not None:  # documented: long varlens, track count >= 0x8000
        assert "longer than 4 bytes" in str(error) or struct.unpack_from(">H", data, 10)[0] >= 0x8000, error
    elif ours is not None and theirs is None:  # documented: mido's float check on huge denominators
        assert any(d > 2**28 for tr in ours.tracks for _, _, d in tr.time_signatures)
    return ours


def smf(*tracks: bytes, fmt: int = 1, division: int = 480, ntracks: int | None = None) -> bytes:
    """A file from raw track bodies (each wrapped in an MTrk chunk)."""
    count = len(tracks) if ntracks is None else ntracks
    head = b"MThd" + struct.pack(">IHHh", 6, fmt, count, division)
    return head + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


@cache
def bench_file() -> bytes:
    """The 5-minute, 8-track, ~20k-note file of ``benchmarks/bench_read.py``."""
    song, tracks = load_script(ROOT / "benchmarks/bench_read.py").build_song()
    return midi_bytes(song, tracks)


# --------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("path", [p for p in FILES if p.name not in BAD_FIXTURES], ids=lambda p: p.name)
def test_valid_files_match_mido(path: Path) -> None:
    data = path.read_bytes()
    mid = mido.MidiFile(file=io.BytesIO(data))
    ours = parse_smf(data)
    assert (ours.format, ours.division) == (mid.type, mid.ticks_per_beat)
    assert smf_view(ours) == mido_view(mid)


@pytest.mark.parametrize("name", sorted(BAD_FIXTURES))
def test_bad_fixtures_rejected_like_mido(name: str) -> None:
    data = (ROOT / "tests/fixtures" / name).read_bytes()
    with pytest.raises(Exception):  # noqa: B017 -- mido raises several types; any is a rejection
        mido.MidiFile(file=io.BytesIO(data))
    with pytest.raises(SmfError):
        parse_smf(data)


def test_bench_file_matches_mido() -> None:
    """The benchmark file (speed is measured in benchmarks/bench_read.py, not here)."""
    data = bench_file()
    ours = parse_smf(data)
    assert smf_view(ours) == mido_view(mido.MidiFile(file=io.BytesIO(data)))
    assert sum(len(t.notes) for t in ours.tracks) == 2 * 19_800  # every note on and off


def test_smpte_division_is_negative() -> None:
    assert parse_smf((ROOT / "tests/fixtures/smpte.mid").read_bytes()).division < 0


# --------------------------------------------------------------------------- semantics


def test_note_off_becomes_velocity_zero_in_order() -> None:
    body = bytes([0, 0x91, 60, 100, 10, 0x81, 60, 64, 0, 0x91, 62, 0, 5, 0xFF, 0x2F, 0])
    (track,) = parse_smf(smf(body)).tracks
    assert track.notes == [(0, 1, 60, 100), (10, 1, 60, 0), (10, 1, 62, 0)]
    assert track.end_tick == 15


def test_running_status_survives_meta_and_realtime_bytes_are_skipped() -> None:
    # note_on, meta text, running-status note, realtime clock, 0xF1 quarter frame + running status
    body = bytes([0, 0x90, 60, 64, 0, 0xFF, 0x01, 1, 65, 3, 61, 70, 0, 0xF8, 0, 0xF1, 5, 0, 6])
    data = smf(body)
    (track,) = assert_same_as_mido(data).tracks  # type: ignore[union-attr]
    assert track.notes == [(0, 0, 60, 64), (3, 0, 61, 70)]


def test_maps_names_and_programs() -> None:
    body = bytes([0, 0xFF, 0x03, 3, *b"Pno", 0, 0xC2, 5, 0, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20,
                  7, 0xFF, 0x58, 4, 6, 3, 24, 8, 0, 0xFF, 0x59, 2, 0xFD, 1, 0, 0xF0, 2, 1, 0xF7])
    (track,) = assert_same_as_mido(smf(body)).tracks  # type: ignore[union-attr]
    assert track.names == [(0, "Pno")]
    assert track.programs == [(0, 2, 5)]
    assert track.tempos == [(0, 500_000)]
    assert track.time_signatures == [(7, 6, 8)]
    assert track.key_signatures == [(7, -3, 1)]


def test_largest_delta_and_zero_tracks_and_type_2() -> None:
    (track,) = assert_same_as_mido(smf(bytes([0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 1]))).tracks  # type: ignore
    assert track.notes == [(0x0FFFFFFF, 0, 60, 1)]
    assert assert_same_as_mido(smf()) == SmfFile(1, 480, [])
    two = assert_same_as_mido(smf(bytes([0, 0x90, 60, 1]), bytes([0, 0x90, 61, 1]), fmt=2))
    assert two is not None and two.format == 2 and len(two.tracks) == 2


def test_unknown_meta_keeps_its_delta_time() -> None:
    # mido 1.3 builds unknown meta events (here 0x08, program name) without their delta
    # time, so it would put the note-off at tick 5; the file means tick 15.
    body = bytes([0, 0x90, 60, 1, 10, 0xFF, 0x08, 1, 65, 5, 0x80, 60, 0])
    (track,) = parse_smf(smf(body)).tracks
    assert track.notes == [(0, 0, 60, 1), (15, 0, 60, 0)]
    assert track.end_tick == 15


def test_unknown_chunk_rejected_like_mido_or_skipped_on_request() -> None:
    good = smf(bytes([0, 0x90, 60, 1]))
    data = good[:14] + b"XFIH\x00\x00\x00\x02ab" + good[14:]
    assert assert_same_as_mido(data) is None
    parsed = parse_smf(data, skip_unknown_chunks=True)
    assert [t.notes for t in parsed.tracks] == [[(0, 0, 60, 1)]]


def test_trailing_bytes_and_long_header_are_accepted() -> None:
    good = smf(bytes([0, 0x90, 60, 1]))
    longer = good[:4] + struct.pack(">I", 8) + good[8:14] + b"\0\0" + good[14:]
    assert assert_same_as_mido(good + b"garbage") is not None
    assert assert_same_as_mido(longer) is not None
    assert parse_smf(bytearray(good)) == parse_smf(memoryview(good)) == parse_smf(good)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "no MThd"),
    (b"RIFF\0\0\0\0WAVE", "no MThd"),
    (b"MThd\0\0\0\6\0\1", "truncated MIDI header"),
    (b"MThd\0\0\0\2\0\1\0\1\1\xe0", "bad MIDI header length"),
    (smf(bytes([0, 0x90, 60, 1]), ntracks=2), "1 of 2 tracks"),
    (smf(bytes([0, 0x90, 60, 1]))[:-1], "truncated chunk"),
    (smf(bytes([0x81, 0x81, 0x81, 0x81, 0, 0x90, 60, 1])), "longer than 4 bytes"),
    (smf(bytes([0, 0xFF, 0x01, 0x81, 0x81, 0x81, 0x81, 0]), ), "longer than 4 bytes"),
    (smf(bytes([0, 60, 1])), "running status without"),
    (smf(bytes([0, 0xFF, 0x01, 0, 0, 60, 1])), "running status without"),
    (smf(bytes([0, 0x90, 60, 0x80])), "data byte > 127"),
    (smf(bytes([0, 0x90, 60])), "truncated event"),
    (smf(bytes([0, 0xFF, 0x01, 5, 65])), "truncated event"),
    (smf(bytes([0, 0x90, 60]), bytes([1, 0, 0xFF, 0x2F, 0])), "truncated event"),
    (smf(bytes([0, 0xFF, 0x01, 0xBD, 0x84, 0x41])), "over 1000000"),
    (smf(bytes([0, 0xF4])), "undefined status byte 0xf4"),
    (smf(bytes([0, 0xF8, 0, 60])), "running status on one-byte"),
    (smf(bytes([0, 0xF0, 2, 0x90, 0xF7])), "sysex data byte"),
    (smf(bytes([0, 0xFF, 0x51, 2, 1, 2])), "set_tempo"),
    (smf(bytes([0, 0xFF, 0x58, 3, 4, 2, 24])), "time_signature"),
    (smf(bytes([0, 0xFF, 0x59, 2, 8, 0])), "key_signature"),
    (smf(bytes([0, 0xFF, 0x59, 2, 0, 2])), "key_signature"),
    (smf(bytes([0, 0xFF, 0x54, 5, 0x80, 0, 0, 0, 0])), "smpte_offset"),
    (smf(bytes([0, 0xFF, 0x00, 1, 7])), "sequence_number"),
    (smf(bytes([0, 0xFF, 0x20, 0])), "channel_prefix"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_malformed(data: bytes, message: str) -> None:
    with pytest.raises(SmfError, match=message):
        parse_smf(data)
    if "longer than 4 bytes" not in message:  # mido reads long varlens
        with pytest.raises(Exception):  # noqa: B017 -- mido raises many types
            mido.MidiFile(file=io.BytesIO(data))


# --------------------------------------------------------------------------- fuzz


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Status bytes, running status data, varlen continuation bytes and meta types, weighted
# towards the bytes that steer the parser.
TRACK_BYTE = st.one_of(
    st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x3C, 0x7F, 0x80, 0x81, 0x90, 0xC0, 0xF0, 0xF7, 0xF8, 0xF1, 0xFF,
                     0x2F, 0x03, 0x51, 0x58, 0x59, 0x54, 0x20]),
)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    assert_same_as_mido(data)
    assert_same_as_mido(b"MThd" + data)


@FUZZ
@given(
    st.integers(0, 3), st.integers(0, 3), st.sampled_from([480, 96, -6360, 0]),
    st.lists(st.tuples(st.lists(TRACK_BYTE, max_size=60), st.integers(-3, 3)), max_size=3),
)
def test_random_tracks(fmt: int, ntracks: int, division: int, bodies: list[tuple[list[int], int]]) -> None:
    data = b"MThd" + struct.pack(">IHHh", 6, fmt, ntracks, division)
    for body, slack in bodies:  # slack: a chunk length a little off from the real one
        data += b"MTrk" + struct.pack(">I", max(0, len(body) + slack)) + bytes(body)
    assert_same_as_mido(data)


@cache
def _fixture_bytes() -> list[bytes]:
    return [p.read_bytes() for p in FILES]


@FUZZ
@given(
    st.integers(0, len(FILES) - 1),
    st.lists(st.tuples(st.sampled_from("set insert delete truncate"), st.integers(0, 10**6),
                       st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_fixtures(index: int, edits: list[tuple[str, int, int]]) -> None:
    data = bytearray(_fixture_bytes()[index])
    for op, where, value in edits:
        at = where % (len(data) + 1)
        if op == "set" and at < len(data):
            data[at] = value
        elif op == "insert":
            data.insert(at, value)
        elif op == "delete" and at < len(data):
            del data[at]
        elif op == "truncate":
            del data[at:]
    assert_same_as_mido(bytes(data))
