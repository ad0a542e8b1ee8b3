"""Fuzz styletx with >= 1,000 malformed or odd MIDI files, generated from a seed.

Every file must end one of two ways: a correct output (the melody written
bit-identical to ``select_parts(read_midi(input)).melody``) or a
:class:`~styletx.errors.StyleTxError`. Anything else -- another exception, a run
past the wall limit, a changed melody -- is a bug and is printed.

Run ``python benchmarks/fuzz_corpus.py [--count 1200] [--seed 0] [--render-every 10]``.
Every file goes through ``read_midi`` + ``select_parts`` + ``build_grid``; every
``--render-every``-th readable file also goes through ``transfer_song`` with a tiny
untrained style and ``midi_bytes``. ``tests/test_fuzz.py`` runs a subset.

The harness limits each file to ``--limit`` seconds of wall time with SIGALRM
(Unix only). The library's own limits are in :mod:`styletx.io.reader`: 4 MiB per
file, 256 tracks/parts, 200,000 notes, 60 minutes and 50,000 quarter notes.
"""

from __future__ import annotations

import argparse
import random
import signal
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.styles import Style

ROOT = Path(__file__).resolve().parents[1]
MAX_RENDER_FRAMES = 4096
"""Longest grid rendered (about 1,000 quarter notes): sampling time grows with length,
so a valid 45-minute file would take minutes -- slow, but not a hang. Longer files are
checked through ``build_grid`` only."""
SEED_FILES = sorted([*ROOT.glob("tests/fixtures/*.mid"), *ROOT.glob("midi_samples/*.mid")])

# --------------------------------------------------------------------------- raw writing


def varlen(n: int) -> bytes:
    """MIDI variable-length quantity (n < 2**28; larger values are written truncated)."""
    n &= 0x0FFFFFFF
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack(">I", len(data)) + data


def midi_file(tracks: list[bytes], fmt: int = 1, division: int = 480,
              ntracks: int | None = None) -> bytes:
    """A file from raw track bodies (each without its end-of-track; one is appended)."""
    header = chunk(b"MThd", struct.pack(">HHH", fmt, len(tracks) if ntracks is None else ntracks,
                                        division))
    return header + b"".join(chunk(b"MTrk", t + b"\x00\xff\x2f\x00") for t in tracks)


def note(delta: int, ch: int, pitch: int, vel: int, on: bool = True) -> bytes:
    return varlen(delta) + bytes([(0x90 if on else 0x80) | ch, pitch & 0x7F, vel & 0x7F])


def meta(delta: int, kind: int, data: bytes) -> bytes:
    return varlen(delta) + bytes([0xFF, kind]) + varlen(len(data)) + data


def tempo(delta: int, us: int) -> bytes:
    return meta(delta, 0x51, us.to_bytes(3, "big"))


def timesig(delta: int, num: int, den_pow: int) -> bytes:
    return meta(delta, 0x58, bytes([num, den_pow, 24, 8]))


def melody_track(rng: random.Random, n: int, step: int, ch: int = 0) -> bytes:
    return b"".join(note(0, ch, rng.randrange(60, 84), 90) + note(step, ch, p, 0, on=False)
                    for p in [rng.randrange(60, 84) for _ in range(n)])


def chords_track(rng: random.Random, n: int, step: int, ch: int = 1) -> bytes:
    out = b""
    for _ in range(n):
        pitches = rng.sample(range(40, 60), 3)
        out += b"".join(note(0, ch, p, 60) for p in pitches)
        out += note(step, ch, pitches[0], 0, on=False) + b"".join(
            note(0, ch, p, 0, on=False) for p in pitches[1:])
    return out


def simple_song(rng: random.Random, bars: int = 4, res: int = 480) -> list[bytes]:
    conductor = tempo(0, 500_000) + timesig(0, 4, 2)
    return [conductor, melody_track(rng, 4 * bars, res), chords_track(rng, bars, 4 * res)]


# --------------------------------------------------------------------------- cases


def _random_bytes(rng: random.Random) -> bytes:
    data = rng.randbytes(rng.randrange(0, 3000))
    return (b"MThd" + data) if rng.random() < 0.5 else data


def _truncated(rng: random.Random) -> bytes:
    data = rng.choice(SEED_FILES).read_bytes()
    return data[: rng.randrange(0, len(data))]


def _bit_flipped(rng: random.Random) -> bytes:
    data = bytearray(rng.choice(SEED_FILES).read_bytes())
    for _ in range(rng.randrange(1, 20)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def _zero_division(rng: random.Random) -> bytes:
    return midi_file(simple_song(rng), division=0)


def _odd_division(rng: random.Random) -> bytes:
    division = rng.choice([1, 2, 3, 7, 0x7FFF, 0xE728, 0x8000 | 25])
    return midi_file(simple_song(rng, res=max(1, division & 0x7FFF)), division=division)


def _huge_ticks(rng: random.Random) -> bytes:
    big = rng.choice([0x0FFFFFFF, 10_000_000, 2_000_000, 200_000])
    tracks = simple_song(rng)
    tracks[1] += note(big, 0, 72, 80) + note(rng.choice([0, 1, big]), 0, 72, 0, on=False)
    return midi_file(tracks)


def _ends_before_start(rng: random.Random) -> bytes:
    tracks = simple_song(rng)
    tracks[1] = note(0, 0, 70, 0, on=False) + tracks[1] + note(10, 0, 61, 64)  # off, then dangling
    return midi_file(tracks)


def _zero_length(rng: random.Random) -> bytes:
    tracks = simple_song(rng)
    tracks[1] += b"".join(note(rng.choice([0, 240]), 0, p, 90) + note(0, 0, p, 0)
                          for p in rng.sample(range(60, 90), 8))
    return midi_file(tracks)


def _many_tracks(rng: random.Random) -> bytes:
    n = rng.choice([0, 0, 257, 500])
    if n == 0:
        return midi_file([], ntracks=rng.choice([0, 1, 3]))
    body = [melody_track(rng, 2, 480, ch=i % 16) for i in range(n)]
    return midi_file(body, ntracks=rng.choice([n, 200, 16]))


def _odd_tempo(rng: random.Random) -> bytes:
    tracks = simple_song(rng)
    tracks[0] = tempo(0, rng.choice([0, 1, 2, 0xFFFFFF])) + timesig(0, 4, 2)
    if rng.random() < 0.5:
        tracks[0] += tempo(960, rng.choice([0, 1, 0xFFFFFF]))
    return midi_file(tracks)


def _running_status(rng: random.Random) -> bytes:
    body = bytes([0x00, 0x90, 60, 100])
    for _ in range(rng.randrange(5, 60)):
        op = rng.random()
        if op < 0.5:
            body += varlen(rng.randrange(0, 480)) + bytes([rng.randrange(0, 128), rng.choice([0, 90])])
        elif op < 0.7:
            body += meta(0, rng.choice([0x01, 0x03, 0x7F]), rng.randbytes(rng.randrange(0, 9)))
        elif op < 0.8:
            body += b"\x00\xf0" + varlen(3) + b"\x7e\x7f\xf7"  # sysex between data bytes
        elif op < 0.9:
            body += b"\x00" + bytes([rng.choice([0xC0, 0xD0, 0xE0, 0xB0, 0xF8, 0xF1])])
            body += rng.randbytes(rng.randrange(0, 3))
        else:
            body += varlen(rng.randrange(0, 480)) + bytes([0x80 | rng.randrange(16), 60, 0])
    return midi_file([tempo(0, 500_000), body])


def _type2(rng: random.Random) -> bytes:
    return midi_file(simple_song(rng), fmt=rng.choice([2, 2, 3, 0xFFFF]))


def _type0_multi(rng: random.Random) -> bytes:
    return midi_file(simple_song(rng), fmt=0)


def _odd_meta(rng: random.Random) -> bytes:
    tracks = simple_song(rng)
    pos = rng.randrange(1, 3)
    odd = rng.choice([
        timesig(rng.randrange(0, 2000), rng.choice([0, 1, 5, 255]), rng.choice([0, 1, 2, 3, 7, 40])),
        meta(rng.randrange(0, 1000), 0x59, bytes([rng.randrange(256), rng.randrange(256)])),
        tempo(rng.randrange(0, 5000), rng.randrange(1, 2_000_000)),
        meta(0, 0x03, "Mélodie \u2603".encode()),
        meta(0, 0x03, b"\xff\xfe\x00lead"),
        meta(0, 0x2F, b""),  # an early end-of-track
        meta(0, 0x51, b"\x07"),  # tempo with a short payload
        meta(0, 0x58, b"\x04"),
        meta(0, 0x20, b"\x05"),  # channel prefix
    ])
    cut = rng.randrange(0, len(tracks[pos]) // 7 + 1) * 7
    tracks[pos] = tracks[pos][:cut] + odd + tracks[pos][cut:] if rng.random() < 0.3 else \
        odd + tracks[pos]
    return midi_file(tracks)


def _long_piece(rng: random.Random) -> bytes:
    hours = rng.choice([2.0, 1.05, 0.5])
    quarters = int(hours * 3600 * 2)  # at 120 bpm
    step = rng.choice([480 * 4, 480 * 64])
    n = quarters * 480 // step
    mel = b"".join(note(0, 0, 60 + i % 12, 80) + note(step, 0, 60 + i % 12, 0, on=False)
                   for i in range(n))
    return midi_file([tempo(0, 500_000), mel])


def _structured(rng: random.Random) -> bytes:
    res = rng.choice([24, 96, 120, 480, 960])
    tracks = [tempo(0, rng.randrange(200_000, 1_500_000)) + timesig(0, rng.choice([2, 3, 4, 6, 7]),
                                                                      rng.choice([2, 3]))]
    for _ in range(rng.randrange(1, 6)):
        ch = rng.randrange(16)
        body = b""
        if rng.random() < 0.7:
            body += varlen(0) + bytes([0xC0 | ch, rng.randrange(128)])
        for _ in range(rng.randrange(0, 80)):
            body += note(rng.choice([0, 0, res // 4, res // 2, res, rng.randrange(3 * res)]), ch,
                         rng.randrange(128), rng.choice([0, 1, 64, 127]),
                         on=rng.random() < 0.6)
        tracks.append(body)
    return midi_file(tracks, fmt=rng.choice([0, 1]) if len(tracks) == 1 else 1, division=res)


def _many_tempos(rng: random.Random) -> bytes:
    """A valid file with thousands of tempo changes, as notation programs write (issue #13)."""
    n = rng.choice([4_608, 20_000])
    step = rng.choice([12, 24, 48])
    conductor = timesig(0, 4, 2) + b"".join(
        tempo(0 if i == 0 else step, rng.randrange(300_000, 900_000)) for i in range(n))
    return midi_file([conductor, melody_track(rng, 32, 480), chords_track(rng, 16, 960)])


CASES: list[tuple[str, Callable[[random.Random], bytes]]] = [
    ("random_bytes", _random_bytes), ("truncated", _truncated), ("bit_flipped", _bit_flipped),
    ("bit_flipped", _bit_flipped), ("zero_division", _zero_division),
    ("odd_division", _odd_division), ("huge_ticks", _huge_ticks),
    ("ends_before_start", _ends_before_start), ("zero_length", _zero_length),
    ("many_tracks", _many_tracks), ("odd_tempo", _odd_tempo),
    ("running_status", _running_status), ("type2", _type2), ("type0_multi", _type0_multi),
    ("odd_meta", _odd_meta), ("structured", _structured), ("structured", _structured),
    ("long_piece", _long_piece), ("many_tempos", _many_tempos),
]


def corpus(count: int = 1200, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``(name, data)`` pairs, cycling through :data:`CASES`; the same seed gives the same files."""
    for i in range(count):
        kind, make = CASES[i % len(CASES)]
        yield f"{i:05d}_{kind}.mid", make(random.Random(f"{seed}:{i}"))


# --------------------------------------------------------------------------- harness


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def check(data: bytes, style: Style | None = None, limit: float = 20.0) -> str:
    """Run one file; return ``"ok"``, ``"error"`` (a clean StyleTxError), ``"timeout"``,
    or ``"crash: ..."`` / ``"melody changed"`` for a bug."""
    from styletx.api import TransferOptions, transfer_song
    from styletx.model.settings import SamplerSettings

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        song = read_midi(data)
        parts = select_parts(song)
        grid = build_grid(song, parts, 4)
        if style is not None and grid.n_frames <= MAX_RENDER_FRAMES:
            result = transfer_song(song, style, TransferOptions(SamplerSettings(sweeps=1, seed=0)))
            written = read_midi(midi_bytes(result.song, result.tracks))
            expected = select_parts(read_midi(data)).melody.notes
            if written.tracks[0].notes != expected or result.tracks[0].notes != expected:
                return "melody changed"
        return "ok"
    except StyleTxError:
        return "error"
    except _Timeout:
        return "timeout"
    except Exception as e:
        return f"crash: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def tiny_style(root: Path) -> Style:
    """The untrained test style from ``tests/conftest.py``, loaded."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_tiny_style

    from styletx.styles import load_style

    return load_style(make_tiny_style(root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-every", type=int, default=10)
    parser.add_argument("--limit", type=float, default=20.0, help="wall seconds per file")
    parser.add_argument("--save", type=Path, default=None, help="write the bad files here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    counts: Counter[str] = Counter()
    bad: list[tuple[str, str]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        style = tiny_style(Path(tmp))
        readable = 0
        for name, data in corpus(args.count, args.seed):
            render = style if readable % args.render_every == 0 else None
            outcome = check(data, None, args.limit)
            if outcome == "ok":
                readable += 1
                if render is not None:
                    outcome = check(data, render, args.limit)
                    counts["rendered"] += 1
            counts[outcome.split(":")[0]] += 1
            if outcome not in ("ok", "error"):
                bad.append((name, outcome))
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / name).write_bytes(data)
    seconds = time.perf_counter() - t0
    print(f"{args.count} files in {seconds:.0f} s: " + ", ".join(
        f"{k} {v}" for k, v in sorted(counts.items())))
    for name, outcome in bad:
        print(f"  {name}: {outcome}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
