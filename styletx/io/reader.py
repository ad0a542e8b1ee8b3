"""Reading MIDI files into a :class:`~styletx.music.song.Song`, in ticks.

Files are parsed with :mod:`styletx.io.smf` and kept in ticks, so that a melody read in
and written back out is bit-identical: same pitches, start and end ticks,
velocities, program and name, under the same tempo, meter and key maps.

Reading rules
-------------
* Parts: one :class:`~styletx.music.song.Track` per (MIDI track, channel) that has
  notes, in file order. A type-0 file (one track) is thereby split by channel.
  Channel 10 (``channel == 9``) is drums.
* Program: the last program_change on the part's channel in its own track at or
  before its first note (else that track's first one); failing that, the same
  rule over all tracks (some files set programs in the conductor track); else 0.
* Name: the track's first track_name.
* Notes: note_on with velocity > 0 starts a note; note_off or note_on with
  velocity 0 ends the *oldest* sounding note of that pitch on that channel in
  that track (first in, first out). A note-off with nothing sounding is
  ignored; a note still sounding at the end of its track ends there.
  Zero-length notes (on and off at one tick) are kept.
* Oddities that reading recovers from (same-pitch overlaps, unmatched
  note-offs, dangling and zero-length notes; for PrettyMIDI input, notes before
  time 0 or ending before they start, out-of-range velocities) are counted in a
  :class:`ReadWarnings` and logged as one warning per file on the ``styletx``
  logger (see :mod:`styletx.diagnostics`), unless the caller asks for the counts.
* Maps: tempo, time-signature and key-signature events from all tracks are
  merged by tick; of several events of one kind at one tick the last (in track
  order) wins. Nothing is added: a file without tempo events gets an empty
  ``Song.tempos`` (see :mod:`styletx.music.timing` for the MIDI defaults).
"""

from __future__ import annotations

import io
import logging
import os
import struct
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import TypeVar

import mido
import pretty_midi

from styletx.errors import BadMidiError, StyleTxError
from styletx.io.files import StrPath
from styletx.io.smf import SmfError, SmfFile, parse_smf
from styletx.music.song import KeySignature, Note, Song, TempoChange, TimeSignature, Track
from styletx.music.timing import duration_seconds

LOGGER = logging.getLogger(__name__)

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest MIDI file read (4 MiB; real songs are well under 1 MiB).

mido parses about 250,000 events a second, so this bounds the worst case
(a file packed with events) to under 20 seconds before the other limits apply."""

MAX_TRACKS = 256
"""Most MIDI tracks in a file, and most parts after splitting tracks by channel."""

MAX_NOTES = 200_000
"""Most notes in a file (a dense 60-minute orchestral score has about 100,000)."""

MAX_SECONDS = 60 * 60.0
"""Longest music accepted, measured with the tempo map up to the last note end."""

MAX_QUARTERS = 50_000
"""Longest music in quarter notes (60 minutes at 800 bpm); bounds bar and frame counts."""

MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".smf")
"""File endings taken as MIDI when a folder is read (batch inputs, ``train --data``)."""

DRUM_CHANNEL = 9
"""General MIDI percussion channel (channel 10, counted from 1)."""

MIN_MELODY_NOTES = 8
"""Parts with fewer notes are melody candidates only when no part has this many."""


MidiSource = StrPath | bytes | pretty_midi.PrettyMIDI | mido.MidiFile

_TS_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
_MapEvent = TypeVar("_MapEvent", TempoChange, TimeSignature, KeySignature)


# --------------------------------------------------------------------------- reading


ODDITIES = ("overlapping notes", "unmatched note offs", "dangling notes", "zero length notes",
            "notes before time zero", "notes ending before start", "velocities clamped")
"""What reading recovers from, in the order :meth:`ReadWarnings.summary` reports them."""


@dataclass
class ReadWarnings:
    """Counts of the recoverable oddities (:data:`ODDITIES`) met while reading one file.

    They do not stop a transfer, but they explain why a note may come out
    different from what a sequencer showed (e.g. an overlap paired first in,
    first out), so the CLI reports them in one line.
    """

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, oddity: str, n: int = 1) -> None:
        """Count ``n`` more of ``oddity`` (one of :data:`ODDITIES`)."""
        if oddity not in ODDITIES:
            raise ValueError(f"unknown oddity {oddity!r}")
        self.counts[oddity] += n

    def any(self) -> bool:
        """Whether anything was counted."""
        return any(self.counts.values())

    def summary(self) -> str:
        """The non-zero counts as one phrase, e.g. ``"2 overlapping notes, 1 dangling notes"``."""
        return ", ".join(f"{self.counts[o]} {o}" for o in ODDITIES if self.counts[o])


def read_midi(src: MidiSource, *, warnings: ReadWarnings | None = None) -> Song:
    """Read a MIDI file into a :class:`~styletx.music.song.Song`, exactly, in ticks.

    Parameters
    ----------
    src
        A path, the file's bytes, a :class:`mido.MidiFile` or a
        :class:`pretty_midi.PrettyMIDI`. Ticks are exact for paths, bytes and
        mido objects. A PrettyMIDI object has already paired notes its own way
        and holds them in seconds; it is converted back with its own
        ``time_to_tick`` (exact up to float rounding) and its channels are lost;
        its notes before time 0 move to 0 and its notes ending before they
        start become zero-length.
    warnings
        If given, filled with the counts of recoverable oddities, which the caller
        reports; if not, they are logged as one warning on the ``styletx`` logger.

    Returns
    -------
    Song
        All parts, maps and the resolution; see the module docstring for the rules.

    Raises
    ------
    BadMidiError
        The input is not a MIDI file, is corrupt or truncated, uses SMPTE
        timing, has no notes or only drums, or exceeds a ``MAX_*`` limit.
    StyleTxError
        The file cannot be read (missing, permissions).
    """
    found = warnings if warnings is not None else ReadWarnings()
    if isinstance(src, pretty_midi.PrettyMIDI):
        label = "<PrettyMIDI>"
        song = _from_pretty_midi(src, found)
    elif isinstance(src, mido.MidiFile):
        label = one_line(src.filename or "<mido.MidiFile>")
        buffer = io.BytesIO()
        src.save(file=buffer)
        song = _from_smf(_parse(buffer.getvalue(), label), label, found)
    else:
        data, label = _load_bytes(src)
        song = _from_smf(_parse(data, label), label, found)
        if not isinstance(src, bytes):
            song.source = os.fspath(src)
    check_song(song, label)
    found.add("zero length notes", sum(n.end == n.start for t in song.tracks for n in t.notes))
    if warnings is None and found.any():
        LOGGER.warning("%s: %s", label, found.summary())
    return song


def one_line(text: object) -> str:
    """Squash a message onto one line (exception texts and file names may hold newlines)."""
    return " ".join(str(text).split())


def read_capped(src: StrPath | bytes, limit: int, error: type[StyleTxError] = BadMidiError,
                what: str = "file") -> tuple[bytes, str]:
    """Return the bytes of ``src`` (a path or bytes) and a label for messages, refusing more
    than ``limit`` bytes before reading them (``error`` names the kind of input)."""
    if isinstance(src, bytes):
        data, label = src, "<bytes>"
    else:
        label = one_line(os.fspath(src))
        try:
            if os.stat(src).st_size > limit:
                raise error(f"{label}: {what} too large (limit {limit >> 20} MiB)")
            with open(src, "rb") as f:
                data = f.read(limit + 1)
        except OSError as e:
            raise StyleTxError(f"cannot read {label}: {e.strerror or e}") from e
    if len(data) > limit:
        raise error(f"{label}: {what} too large (limit {limit >> 20} MiB)")
    return data, label


def _load_bytes(src: StrPath | bytes) -> tuple[bytes, str]:
    """Return the file's bytes and a label for messages, enforcing the size limit and the header."""
    data, label = read_capped(src, MAX_FILE_BYTES)
    _check_header(data, label)
    return data, label


def _check_header(data: bytes, label: str) -> None:
    """Reject non-MIDI data and unsupported headers with a precise message, before parsing."""
    if data[:4] != b"MThd":
        raise BadMidiError(f"{label}: not a MIDI file (no MThd header)")
    if len(data) < 14 or struct.unpack(">I", data[4:8])[0] < 6:
        raise BadMidiError(f"{label}: truncated or corrupt MIDI header")
    fmt, ntracks, division = struct.unpack(">HHH", data[8:14])
    if fmt == 2:
        raise BadMidiError(f"{label}: type-2 (multi-sequence) MIDI files are not supported")
    if fmt > 2:
        raise BadMidiError(f"{label}: corrupt MIDI header (unknown format {fmt})")
    if division & 0x8000:
        raise BadMidiError(f"{label}: SMPTE time division is not supported (need ticks per beat)")
    if division == 0:
        raise BadMidiError(f"{label}: corrupt MIDI header (0 ticks per beat)")
    if ntracks > MAX_TRACKS:
        raise BadMidiError(f"{label}: too many tracks ({ntracks}; limit {MAX_TRACKS})")


def _parse(data: bytes, label: str) -> SmfFile:
    """Parse with :mod:`styletx.io.smf` (about 18x faster than mido), as one BadMidiError on bad data."""
    try:
        return parse_smf(data)
    except SmfError as e:
        if "truncated" in str(e):
            raise BadMidiError(f"{label}: truncated MIDI file ({one_line(e)})") from e
        raise BadMidiError(f"{label}: corrupt MIDI file ({one_line(e)})") from e


@dataclass
class _PartBuilder:
    """Notes and first-note tick of one (track, channel) while reading."""

    notes: list[Note]
    first_tick: int
    events: list[tuple[int, bytes]] = field(default_factory=list)


def _key_from_signature(sf: int, minor: bool) -> tuple[int, bool]:
    """Return (tonic pitch class, minor) for a key signature's sharps/flats count."""
    return (7 * sf + (9 if minor else 0)) % 12, minor


def _from_smf(mid: SmfFile, label: str, warnings: ReadWarnings) -> Song:
    """Convert a parsed file into a Song (see the module docstring for the rules)."""
    resolution = mid.division
    if resolution <= 0:
        raise BadMidiError(f"{label}: ticks per beat must be positive (got {resolution})")
    if mid.format not in (0, 1):
        raise BadMidiError(f"{label}: only MIDI types 0 and 1 are supported (got {mid.format})")
    if len(mid.tracks) > MAX_TRACKS:
        raise BadMidiError(f"{label}: too many tracks ({len(mid.tracks)}; limit {MAX_TRACKS})")

    parts: dict[tuple[int, int], _PartBuilder] = {}
    names: dict[int, str] = {}
    track_programs: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    file_programs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    tempos: list[TempoChange] = []
    meters: list[TimeSignature] = []
    keys: list[KeySignature] = []
    song_events: list[tuple[int, bytes]] = []
    lyrics: list[tuple[int, str]] = []
    kar_text: list[tuple[int, str]] = []
    n_notes = 0
    for ti, track in enumerate(mid.tracks):
        tick = track.end_tick
        sounding: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
        for when, channel, pitch, velocity in track.notes:
            if velocity > 0:
                n_notes += 1
                if n_notes > MAX_NOTES:
                    raise BadMidiError(f"{label}: too many notes (limit {MAX_NOTES:,})")
                if sounding[channel, pitch]:
                    warnings.add("overlapping notes")
                sounding[channel, pitch].append((when, velocity))
                parts.setdefault((ti, channel), _PartBuilder([], when))
            else:
                queue = sounding.get((channel, pitch))
                if queue:
                    start, on_velocity = queue.popleft()
                    parts[ti, channel].notes.append(Note(start, when, pitch, on_velocity))
                else:
                    warnings.add("unmatched note offs")
        for when, channel, program in track.programs:
            track_programs[ti, channel].append((when, program))
            file_programs[channel].append((when, program))
        if track.names:
            names.setdefault(ti, track.names[0][1])
        tempos += [TempoChange(when, us) for when, us in track.tempos]
        meters += [TimeSignature(when, num, den) for when, num, den in track.time_signatures]
        keys += [KeySignature(when, *_key_from_signature(sf, bool(mode)))
                 for when, sf, mode in track.key_signatures]
        for (channel, pitch), queue in sounding.items():
            for start, velocity in queue:  # dangling: ends with the track
                warnings.add("dangling notes")
                parts[ti, channel].notes.append(Note(start, tick, pitch, velocity))
        _share_events(ti, track.events, parts, song_events, lyrics, kar_text)

    if len(parts) > MAX_TRACKS:
        raise BadMidiError(f"{label}: too many parts ({len(parts)}; limit {MAX_TRACKS})")
    for channel in file_programs:
        file_programs[channel].sort(key=lambda e: e[0])
    tracks = []
    for index, ((ti, channel), part) in enumerate(sorted(parts.items())):
        program = _program_at(track_programs.get((ti, channel), []), part.first_tick)
        if program is None:
            program = _program_at(file_programs.get(channel, []), part.first_tick)
        tracks.append(Track(
            name=names.get(ti, ""),
            program=program or 0,
            is_drum=channel == DRUM_CHANNEL,
            notes=sorted(part.notes),
            index=index,
            channel=channel,
            events=part.events,
        ))
    if not lyrics and len(kar_text) >= MIN_MELODY_NOTES:
        lyrics = kar_text  # a .kar file: the words are text events
    return Song(
        resolution=resolution,
        tracks=tracks,
        tempos=_last_per_tick(tempos),
        time_signatures=_last_per_tick(meters),
        key_signatures=_last_per_tick(keys),
        midi_type=mid.format,
        events=song_events,
        lyrics=sorted(lyrics, key=lambda e: e[0]),
    )


def _share_events(
    ti: int,
    events: list[tuple[int, int, bytes]],
    parts: dict[tuple[int, int], _PartBuilder],
    song_events: list[tuple[int, bytes]],
    lyrics: list[tuple[int, str]],
    kar_text: list[tuple[int, str]],
) -> None:
    """Give a track's non-note events to its parts (see :attr:`Track.events`).

    A channel event goes to the part of its channel in this track, or, when the
    track has exactly one part, to that part. A meta or sysex event goes to the
    track's part when it has exactly one; otherwise (a conductor or lyrics track,
    a type-0 track split by channel) it goes to the song, and is written in the
    conductor track. Channel events of a track with no notes are dropped: styletx
    allocates new channels, so they would act on the wrong instrument.
    """
    mine = [key for key in parts if key[0] == ti]
    only = parts[mine[0]] if len(mine) == 1 else None
    for when, channel, raw in events:
        if raw[0] == 0xFF and len(raw) > 1 and raw[1] in (0x01, 0x05):
            text = raw[2:].decode("latin-1")
            if raw[1] == 0x05:
                lyrics.append((when, text))
            elif not text.startswith("@"):
                kar_text.append((when, text))
        if channel >= 0:
            target = parts.get((ti, channel), only)
            if target is not None:
                target.events.append((when, raw))
        elif only is not None:
            only.events.append((when, raw))
        else:
            song_events.append((when, raw))


def _program_at(changes: list[tuple[int, int]], tick: int) -> int | None:
    """Return the program in force at ``tick`` (else the first one set), or None."""
    before = [p for t, p in changes if t <= tick]
    if before:
        return before[-1]
    return changes[0][1] if changes else None


def _last_per_tick(events: list[_MapEvent]) -> list[_MapEvent]:
    """Sort map events by tick (stably) and keep the last event at each tick."""
    by_tick: dict[int, _MapEvent] = {}
    for e in sorted(events, key=lambda e: e.tick):
        by_tick[e.tick] = e
    return list(by_tick.values())


def _from_pretty_midi(pm: pretty_midi.PrettyMIDI, warnings: ReadWarnings) -> Song:
    """Convert a PrettyMIDI object back to ticks with its own tempo map.

    A PrettyMIDI object built in code can hold what no MIDI file can (negative
    times, ends before starts, velocity 0 or 200); those are repaired and
    counted so that the song can always be written back out.
    """

    def tick(seconds: float) -> int:
        return int(pm.time_to_tick(seconds)) if seconds > 0 else 0

    def note(n: pretty_midi.Note) -> Note:
        if not 0 <= n.pitch <= 127:
            raise BadMidiError(f"<PrettyMIDI>: note pitch {n.pitch} is outside 0-127")
        if n.start < 0:
            warnings.add("notes before time zero")
        start, end = tick(n.start), tick(n.end)
        if end < start:
            warnings.add("notes ending before start")
            end = start
        velocity = min(max(int(n.velocity), 1), 127)
        if velocity != n.velocity:
            warnings.add("velocities clamped")
        return Note(start, end, int(n.pitch), velocity)

    times, bpms = pm.get_tempo_changes()
    tracks = []
    for inst in pm.instruments:
        if not inst.notes:
            continue
        notes = [note(n) for n in inst.notes]
        tracks.append(Track(
            name=inst.name,
            program=inst.program,
            is_drum=inst.is_drum,
            notes=sorted(notes),
            index=len(tracks),
            channel=DRUM_CHANNEL if inst.is_drum else None,
        ))
    return Song(
        resolution=pm.resolution,
        tracks=tracks,
        tempos=[TempoChange(tick(t), round(60e6 / b)) for t, b in zip(times, bpms, strict=True)],
        time_signatures=[
            TimeSignature(tick(ts.time), ts.numerator, ts.denominator)
            for ts in pm.time_signature_changes
        ],
        key_signatures=[
            KeySignature(tick(k.time), k.key_number % 12, k.key_number >= 12)
            for k in pm.key_signature_changes
        ],
    )


def check_song(song: Song, label: str) -> None:
    """Enforce the content rules and limits that hold for every kind of input (scores too)."""
    n_notes = sum(len(t.notes) for t in song.tracks)
    if n_notes == 0:
        raise BadMidiError(f"{label}: the file has no notes")
    if all(t.is_drum for t in song.tracks):
        raise BadMidiError(f"{label}: the file has only drums; styletx needs a pitched melody")
    if n_notes > MAX_NOTES:
        raise BadMidiError(f"{label}: too many notes ({n_notes:,}; limit {MAX_NOTES:,})")
    for t in song.tempos:
        if t.us_per_quarter <= 0:
            raise BadMidiError(f"{label}: invalid tempo {t.us_per_quarter} at tick {t.tick}")
    for ts in song.time_signatures:
        if (
            ts.numerator < 1
            or ts.denominator not in _TS_DENOMINATORS
            or ts.numerator * 4 * song.resolution < ts.denominator
        ):
            raise BadMidiError(
                f"{label}: invalid time signature {ts.numerator}/{ts.denominator} at tick {ts.tick}"
            )
    if song.end_tick / song.resolution > MAX_QUARTERS:
        raise BadMidiError(
            f"{label}: too long ({song.end_tick // song.resolution:,} beats; "
            f"limit {MAX_QUARTERS:,})"
        )
    seconds = duration_seconds(song)
    if seconds > MAX_SECONDS:
        raise BadMidiError(
            f"{label}: too long ({seconds / 60:.0f} minutes of music; "
            f"limit {MAX_SECONDS / 60:.0f})"
        )

