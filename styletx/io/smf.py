"""A small, fast, strict Standard MIDI File parser that returns plain data.

Why: mido builds a checked ``Message`` object per event, which is about 85 % of
reading a 20k-note file. This module walks the bytes once, keeps only what
:mod:`styletx.io.reader` needs (notes, programs, tempo/meter/key maps, track
names, track lengths) as tuples, and accepts or rejects the same files as
mido 1.3 except for the few cases listed under "Differences from mido".

Event semantics (per track, in file order, ticks absolute from the track start)
-------------------------------------------------------------------------------
* ``notes``: ``(tick, channel, pitch, velocity)`` for every note event. A
  note-on with velocity > 0 starts a note; a note-off (status 0x8n, whatever
  its release velocity) is stored with velocity 0, exactly like a note-on with
  velocity 0, so ``velocity == 0`` means "note off". Order is kept, so FIFO
  pairing gives the same notes as pairing mido's messages.
* ``programs``: ``(tick, channel, program)``.
* ``tempos``: ``(tick, microseconds per quarter)`` (set_tempo, first 3 bytes).
* ``time_signatures``: ``(tick, numerator, denominator)``, the denominator as
  a number (``2 ** byte``), as mido gives it.
* ``key_signatures``: ``(tick, sf, mode)``: sharps (> 0) or flats (< 0) as a
  signed int in -7..7 and mode 0 (major) or 1 (minor).
* ``names``: ``(tick, name)`` for every track_name meta (0x03), latin-1 decoded.
* ``events``: ``(tick, channel, raw)`` for every other event that is kept verbatim
  on output: program changes, controllers, pitch bends, channel and poly
  aftertouch (``channel`` 0-15, ``raw`` the status byte with its data bytes,
  running status expanded), sysex (``channel`` -1, ``raw`` ``F0`` + payload
  without its framing bytes) and meta events other than track_name, tempo,
  time and key signature and end_of_track (``channel`` -1, ``raw``
  ``FF type`` + payload): text, copyright, lyrics, markers, cue points,
  instrument names, sequencer-specific data, ...
* ``end_tick``: the sum of all delta times in the track (end_of_track included;
  events after an end_of_track are still read, as mido does).

Parsing rules (mido's, unless noted)
------------------------------------
* Header: ``MThd`` with length >= 6; bytes beyond 6 are skipped. ``format``
  and the track count are unsigned; ``division`` is signed, so SMPTE timing
  shows as ``division < 0`` (the caller rejects it). Formats 0, 1 and 2 all
  parse.
* Chunks: exactly the header's number of track chunks is read; bytes after
  them are ignored. A chunk that is not ``MTrk`` where a track is expected is
  an error (mido's behaviour), unless ``skip_unknown_chunks=True``, which
  skips it as the SMF spec recommends. A chunk running past the data is an
  error, as is an event running past its chunk's end.
* Running status: any status byte except 0xFF (meta) sets it, including sysex
  (0xF0/0xF7) and system bytes 0xF1-0xFE; meta events do not cancel it. A data
  byte with no status before it in the track is an error. Running status after
  a sysex reads another sysex and drops that first data byte (mido's quirk).
* System bytes inside a track: 0xF1/0xF3 take one data byte, 0xF2 two, 0xF6
  and the realtime bytes 0xF8/0xFA/0xFB/0xFC/0xFE none; 0xF4, 0xF5, 0xF9, 0xFD
  are errors. All of them are ignored otherwise.
* Data bytes must be < 128 (channel, system and sysex payload bytes).
* Meta events: any type byte; length <= 1,000,000 (mido's limit, also for
  sysex). Malformed ones that mido rejects are errors: set_tempo shorter than
  3 bytes, time_signature shorter than 4, key_signature shorter than 2 or
  outside -7..7 / mode 0-1, sequence_number of length 1, channel_prefix of
  length 0, smpte_offset shorter than 5 or with out-of-range fields.

Differences from mido (the last three only on corrupt files)
------------------------------------------------------------
* mido 1.3 drops the delta time of meta events of types it does not know
  (e.g. 0x08 program name, 0x0A-0x0F text, 0x4B), shifting every later event
  of that track earlier; here they keep it, so ticks are the file's.
* Variable-length numbers longer than 4 bytes are rejected (the SMF limit);
  mido reads any length.
* A track count >= 0x8000 is unsigned here (so the file is usually
  truncated); mido reads it as negative, i.e. zero tracks.
* mido rejects some time-signature denominators above ``2 ** 28`` through a
  floating-point check; they parse here (the reader rejects them anyway).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAX_MESSAGE_LENGTH = 1_000_000
"""Longest meta or sysex payload accepted (mido's limit; longer means corrupt)."""

_SYSTEM_DATA_LENGTH = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
"""Data bytes after each defined system common / realtime status byte."""


class SmfError(ValueError):
    """The bytes are not a well-formed Standard MIDI File; the message says why, in a few words."""


@dataclass(slots=True)
class SmfTrack:
    """The events of one ``MTrk`` chunk that styletx uses, as tuples in file order (see module doc)."""

    notes: list[tuple[int, int, int, int]] = field(default_factory=list)
    programs: list[tuple[int, int, int]] = field(default_factory=list)
    tempos: list[tuple[int, int]] = field(default_factory=list)
    time_signatures: list[tuple[int, int, int]] = field(default_factory=list)
    key_signatures: list[tuple[int, int, int]] = field(default_factory=list)
    names: list[tuple[int, str]] = field(default_factory=list)
    events: list[tuple[int, int, bytes]] = field(default_factory=list)
    end_tick: int = 0


@dataclass(slots=True)
class SmfFile:
    """A parsed file: header fields and its track chunks, in order."""

    format: int
    division: int  # ticks per quarter if > 0; < 0 means SMPTE timing
    tracks: list[SmfTrack]


def parse_smf(data: bytes | bytearray | memoryview, *, skip_unknown_chunks: bool = False) -> SmfFile:
    """Parse a Standard MIDI File.

    Parameters
    ----------
    data
        The whole file.
    skip_unknown_chunks
        Skip chunks other than ``MTrk`` where a track is expected, instead of
        rejecting the file (mido rejects; the SMF spec says to skip).

    Returns
    -------
    SmfFile
        Header fields and one :class:`SmfTrack` per track chunk.

    Raises
    ------
    SmfError
        On any malformed input; no other exception escapes, whatever the bytes.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if data[:4] != b"MThd":
        raise SmfError("not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise SmfError("truncated MIDI header")
    header_length = struct.unpack_from(">I", data, 4)[0]
    if header_length < 6:
        raise SmfError(f"bad MIDI header length {header_length}")
    fmt, ntracks, division = struct.unpack_from(">HHh", data, 8)
    pos = 8 + header_length
    tracks: list[SmfTrack] = []
    size = len(data)
    while len(tracks) < ntracks:
        if pos + 8 > size:
            raise SmfError(f"truncated file: {len(tracks)} of {ntracks} tracks present")
        chunk_id = data[pos:pos + 4]
        length = struct.unpack_from(">I", data, pos + 4)[0]
        start = pos + 8
        pos = start + length
        if pos > size:
            raise SmfError(f"truncated chunk {chunk_id!r} (track {len(tracks)})")
        if chunk_id != b"MTrk":
            if skip_unknown_chunks:
                continue
            raise SmfError(f"unknown chunk {chunk_id!r} where track {len(tracks)} was expected")
        try:
            tracks.append(_parse_track(data[start:pos]))
        except IndexError:
            raise SmfError(f"truncated event in track {len(tracks)}") from None
        except SmfError as e:
            raise SmfError(f"track {len(tracks)}: {e}") from None
    return SmfFile(fmt, division, tracks)


def _varlen(trk: bytes, i: int) -> tuple[int, int]:
    """Read a variable-length number (at most 4 bytes) at ``i``; return (value, next index)."""
    value = 0
    for _ in range(4):
        b = trk[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i
    raise SmfError("variable-length number longer than 4 bytes")


def _parse_track(trk: bytes) -> SmfTrack:
    """Parse one chunk's bytes; an IndexError from reading past ``trk`` means a truncated event.

    The hot path (delta time, channel events) is inlined with local names; the
    chunk is its own ``bytes`` so running off its end raises instead of reading
    the next chunk, and no per-event bounds check is needed.
    """
    out = SmfTrack()
    notes_append = out.notes.append
    programs_append = out.programs.append
    events_append = out.events.append
    n = len(trk)
    i = 0
    tick = 0
    running = -1
    while i < n:
        b = trk[i]
        i += 1
        if b & 0x80:  # multi-byte delta (rare): at most 4 bytes
            delta = b & 0x7F
            b = trk[i]
            i += 1
            delta = (delta << 7) | (b & 0x7F)
            if b & 0x80:
                b = trk[i]
                i += 1
                delta = (delta << 7) | (b & 0x7F)
                if b & 0x80:
                    b = trk[i]
                    i += 1
                    if b & 0x80:
                        raise SmfError("variable-length number longer than 4 bytes")
                    delta = (delta << 7) | b
            tick += delta
        else:
            tick += b
        status = trk[i]
        if status & 0x80:
            i += 1
            if status != 0xFF:
                running = status
        elif running < 0:
            raise SmfError("running status without a previous status byte")
        else:
            status = running  # ``i`` stays on the first data byte
        if status < 0xF0:
            kind = status & 0xF0
            if kind == 0x90 or kind == 0x80:
                pitch = trk[i]
                velocity = trk[i + 1]
                i += 2
                if (pitch | velocity) & 0x80:
                    raise SmfError("data byte > 127")
                notes_append((tick, status & 0x0F, pitch, velocity if kind == 0x90 else 0))
            elif kind == 0xC0 or kind == 0xD0:
                value = trk[i]
                i += 1
                if value & 0x80:
                    raise SmfError("data byte > 127")
                if kind == 0xC0:
                    programs_append((tick, status & 0x0F, value))
                events_append((tick, status & 0x0F, bytes((status, value))))
            else:  # polytouch, control change, pitchwheel
                if (trk[i] | trk[i + 1]) & 0x80:
                    raise SmfError("data byte > 127")
                events_append((tick, status & 0x0F, bytes((status, trk[i], trk[i + 1]))))
                i += 2
        elif status == 0xFF:
            i = _meta(trk, i, tick, out)
        elif status == 0xF0 or status == 0xF7:
            if trk[i - 1] < 0x80:  # running status into sysex: mido drops this data byte
                i += 1
            length, i = _varlen(trk, i)
            end = _payload_end(i, length, n)
            payload = trk[i:end]
            if payload[:1] == b"\xf0":
                payload = payload[1:]
            if payload[-1:] == b"\xf7":
                payload = payload[:-1]
            if not payload.isascii():
                raise SmfError("sysex data byte > 127")
            events_append((tick, -1, b"\xf0" + payload))
            i = end
        else:
            count = _SYSTEM_DATA_LENGTH.get(status)
            if count is None:
                raise SmfError(f"undefined status byte 0x{status:02x}")
            if count == 0 and trk[i - 1] < 0x80:
                raise SmfError(f"running status on one-byte message 0x{status:02x}")
            end = i + count
            if end > n:
                raise IndexError
            if not trk[i:end].isascii():
                raise SmfError("data byte > 127")
            i = end
    out.end_tick = tick
    return out


def _payload_end(i: int, length: int, n: int) -> int:
    """Check a meta/sysex length against mido's limit and the chunk end; return the payload end."""
    if length > MAX_MESSAGE_LENGTH:
        raise SmfError(f"message length {length} over {MAX_MESSAGE_LENGTH}")
    end = i + length
    if end > n:
        raise IndexError
    return end


def _meta(trk: bytes, i: int, tick: int, out: SmfTrack) -> int:
    """Read the meta event whose type byte is at ``i``, store the kinds we keep; return the next index.

    Malformed payloads that mido refuses to decode are errors here too, so both
    accept the same files.
    """
    kind = trk[i]
    length, i = _varlen(trk, i + 1)
    end = _payload_end(i, length, len(trk))
    if kind == 0x51:
        if length < 3:
            raise SmfError("set_tempo shorter than 3 bytes")
        out.tempos.append((tick, (trk[i] << 16) | (trk[i + 1] << 8) | trk[i + 2]))
    elif kind == 0x58:
        if length < 4:
            raise SmfError("time_signature shorter than 4 bytes")
        out.time_signatures.append((tick, trk[i], 1 << trk[i + 1]))
    elif kind == 0x59:
        if length < 2:
            raise SmfError("key_signature shorter than 2 bytes")
        sf = trk[i] - 256 if trk[i] > 127 else trk[i]
        mode = trk[i + 1]
        if not (-7 <= sf <= 7 and mode <= 1):
            raise SmfError(f"bad key_signature (sf={sf}, mode={mode})")
        out.key_signatures.append((tick, sf, mode))
    elif kind == 0x03:
        out.names.append((tick, trk[i:end].decode("latin-1")))
        return end
    elif kind == 0x00:
        if length == 1:
            raise SmfError("sequence_number of 1 byte")
    elif kind == 0x20:
        if length == 0:
            raise SmfError("empty channel_prefix")
    elif kind == 0x54 and (length < 5 or trk[i] >> 5 > 3 or trk[i + 1] > 59 or trk[i + 2] > 59
                           or trk[i + 4] > 99):
        raise SmfError("bad smpte_offset")
    if kind not in (0x2F, 0x51, 0x58, 0x59):
        out.events.append((tick, -1, bytes((0xFF, kind)) + trk[i:end]))
    return end
