"""Writing a :class:`~styletx.music.song.Song` back to a Standard MIDI File, tick for tick.

:func:`write_midi` writes a type-1 file at ``song.resolution``: a conductor
track with the three maps, then one track per given part. Within a tick, note
events are ordered note-offs of earlier notes first, then zero-length notes
(on, then off), then note-ons -- each group by pitch -- which is exactly what
the FIFO reading rule needs to give back the same notes. (Same-pitch notes on
one part that overlap in a nested way cannot survive FIFO pairing; notes that
came from :func:`~styletx.io.reader.read_midi` never do.) Key names are re-spelled with the
fewest accidentals (a Gb major file comes back as F# major: same tonic and mode).
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import mido
from mido.midifiles.meta import UnknownMetaMessage

from styletx.io.files import StrPath, atomic_write
from styletx.io.reader import DRUM_CHANNEL
from styletx.music.song import Song, Track


def midi_bytes(song: Song, tracks: Sequence[Track]) -> bytes:
    """Return a type-1 MIDI file of ``tracks`` under ``song``'s resolution and maps.

    The result is a pure function of the input: identical input gives
    byte-identical output. See the module docstring for the event order.

    Raises
    ------
    ValueError
        A note is out of MIDI range (pitch 0-127, velocity 1-127) or ends before it starts.
    """
    mid = mido.MidiFile(type=1, ticks_per_beat=song.resolution)
    mid.tracks.append(_conductor(song, _orphan_texts(song, tracks)))
    channels = allocate_channels([(t.is_drum, t.channel) for t in tracks])
    for track, channel in zip(tracks, channels, strict=True):
        mid.tracks.append(_note_track(track, channel))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def write_midi(
    path: StrPath,
    song: Song,
    tracks: Sequence[Track],
    *,
    force: bool = False,
    protect: Iterable[StrPath] = (),
) -> Path:
    """Write ``tracks`` as a type-1 MIDI file, atomically, and return its path.

    Parameters
    ----------
    path
        Output file.
    song
        Gives the resolution and the tempo, time-signature and key maps.
    tracks
        The parts to write, one MIDI track each, in this order.
    force
        Replace an existing file.
    protect
        Files that must never be replaced, even with ``force`` (the inputs).
        ``song.source``, when set, is always protected.

    Raises
    ------
    StyleTxError
        The target exists (without ``force``), is protected, or cannot be written.
    """
    data = midi_bytes(song, tracks)
    protected = [*protect, *([song.source] if song.source else [])]
    return atomic_write(path, data, force=force, protect=protected)


def _to_delta(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """Turn (absolute tick, message) pairs, already in order, into a mido track."""
    track = mido.MidiTrack()
    prev = 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - prev))
        prev = tick
    return track


TEXT_METAS = frozenset((0x01, 0x02, 0x05, 0x06, 0x07))
"""Meta types kept from parts that are not written: text, copyright, lyrics, marker, cue point."""


def _orphan_texts(song: Song, tracks: Sequence[Track]) -> list[tuple[int, bytes]]:
    """Text-like meta events of the song's parts that ``tracks`` does not write (a replaced
    accompaniment's lyrics or markers), so that they survive in the conductor track."""
    written = {t.index for t in tracks if t.index >= 0} | {
        t.origin for t in tracks if t.origin is not None}
    written_ids = {id(t) for t in tracks}
    out = []
    for t in song.tracks:
        if id(t) in written_ids or t.index in written:
            continue
        out += [(tick, raw) for tick, raw in t.events
                if raw[0] == 0xFF and len(raw) > 1 and raw[1] in TEXT_METAS]
    return out


def _raw_message(raw: bytes, channel: int | None = None) -> mido.Message | mido.MetaMessage:
    """A mido message for a raw event of :attr:`Track.events` (on ``channel`` if given)."""
    if raw[0] == 0xFF:
        return UnknownMetaMessage(raw[1], data=tuple(raw[2:]))
    if raw[0] == 0xF0:
        return mido.Message("sysex", data=raw[1:])
    status = raw[0] if channel is None else (raw[0] & 0xF0) | channel
    return mido.Message.from_bytes([status, *raw[1:]])


def _conductor(song: Song, extra: Sequence[tuple[int, bytes]] = ()) -> mido.MidiTrack:
    """The first track: meter, key and tempo events, then the song's own meta and sysex events
    (:attr:`Song.events`) and ``extra``, in tick order."""
    events: list[tuple[int, int, mido.MetaMessage]] = []
    for ts in song.time_signatures:
        events.append((ts.tick, 0, mido.MetaMessage(
            "time_signature", numerator=ts.numerator, denominator=ts.denominator)))
    for ks in song.key_signatures:
        events.append((ks.tick, 1, mido.MetaMessage("key_signature", key=ks.name)))
    for t in song.tempos:
        events.append((t.tick, 2, mido.MetaMessage("set_tempo", tempo=t.us_per_quarter)))
    for tick, raw in [*song.events, *extra]:
        events.append((tick, 3, _raw_message(raw)))
    events.sort(key=lambda e: (e[0], e[1]))
    return _to_delta([(tick, msg) for tick, _, msg in events])


def allocate_channels(parts: Sequence[tuple[bool, int | None]]) -> list[int]:
    """Give each part, ``(is_drum, wished channel or None)``, a MIDI channel.

    Drums get 9; the others keep a free wished channel, else take the lowest free one.
    Past 15 pitched parts, channels are reused in turn (their programs then clash
    on playback, but notes stay apart because every part has its own track).
    """
    pitched_channels = [c for c in range(16) if c != DRUM_CHANNEL]
    chosen: list[int | None] = [None] * len(parts)
    taken: set[int] = set()
    for i, (is_drum, wish) in enumerate(parts):
        if is_drum:
            chosen[i] = DRUM_CHANNEL
        elif wish in pitched_channels and wish not in taken:
            chosen[i] = wish
            taken.add(wish)
    spare = deque(c for c in pitched_channels if c not in taken)
    reused = 0
    for i, c in enumerate(chosen):
        if c is None:
            if spare:
                chosen[i] = spare.popleft()
            else:
                chosen[i] = pitched_channels[reused % len(pitched_channels)]
                reused += 1
    return [c for c in chosen if c is not None]


def _note_track(track: Track, channel: int) -> mido.MidiTrack:
    """One part: name, program, then its notes in the FIFO-safe order, with the part's own
    events (:attr:`Track.events`) verbatim, moved to ``channel``, before the notes of their tick.

    The program change at tick 0 is written only when the part's events hold none.
    """
    head: list[tuple[int, mido.Message | mido.MetaMessage]] = []
    if track.name:
        name = track.name.encode("latin-1", "replace").decode("latin-1")
        head.append((0, mido.MetaMessage("track_name", name=name)))
    if not any(raw[0] & 0xF0 == 0xC0 for _, raw in track.events):
        head.append((0, mido.Message("program_change", channel=channel, program=track.program)))

    keyed: list[tuple[tuple[int, int, int, int, int], mido.Message | mido.MetaMessage]] = [
        ((tick, -1, 0, seq, 0), _raw_message(raw, channel))
        for seq, (tick, raw) in enumerate(track.events)]
    for seq, n in enumerate(sorted(track.notes)):
        if not (0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 and 0 <= n.start <= n.end):
            raise ValueError(f"part {track.name!r}: cannot write {n}")
        on = mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity)
        off = mido.Message("note_off", channel=channel, note=n.pitch, velocity=0)
        if n.end == n.start:
            keyed.append(((n.start, 1, n.pitch, seq, 0), on))
            keyed.append(((n.start, 1, n.pitch, seq, 1), off))
        else:
            keyed.append(((n.start, 2, n.pitch, seq, 0), on))
            keyed.append(((n.end, 0, n.pitch, seq, 0), off))
    keyed.sort(key=lambda e: e[0])
    return _to_delta(head + [(key[0], msg) for key, msg in keyed])
