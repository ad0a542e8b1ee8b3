"""Plain data classes for a parsed MIDI file, in ticks.

Everything is kept in MIDI ticks (never seconds), so that notes written back
out are bit-identical to the ones read in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from styletx.music.chords import Chord, key_symbol


@dataclass(frozen=True, order=True)
class Note:
    """One note. ``end`` > ``start`` is not guaranteed for raw input (zero-length notes exist)."""

    start: int
    end: int
    pitch: int
    velocity: int


@dataclass
class Track:
    """One instrument part: a MIDI track (or a channel of a type-0 track)."""

    name: str
    program: int
    is_drum: bool
    notes: list[Note]
    index: int = -1  # position among the input's instrument parts; -1 for derived tracks
    channel: int | None = None
    events: list[tuple[int, bytes]] = field(default_factory=list)
    """The part's other events, kept verbatim on output: ``(tick, raw)`` in file order, where
    ``raw`` is a channel message (status byte with the input's channel, then data bytes), a
    sysex (``F0`` + payload) or a meta event (``FF type`` + payload); see :mod:`styletx.io.smf`."""
    origin: int | None = None  # for a derived track (skyline), the index of the part it came from

    @property
    def max_polyphony(self) -> int:
        """Most notes sounding at once (zero-length notes count at their onset)."""
        events = []
        for n in self.notes:
            events.append((n.start, 1))
            events.append((max(n.end, n.start + 1), -1))
        events.sort(key=lambda e: (e[0], e[1]))
        best = cur = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best


@dataclass(frozen=True)
class TempoChange:
    tick: int
    us_per_quarter: int  # MIDI set_tempo value

    @property
    def bpm(self) -> float:
        return 60_000_000 / self.us_per_quarter


@dataclass(frozen=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int
    # the beat groups a score's additive signature writes (3+2/4: (3, 2)), in denominator
    # units; () when the file does not say (MIDI never does): styletx.music.meter's rule then
    groups: tuple[int, ...] = ()


@dataclass(frozen=True)
class KeySignature:
    tick: int
    tonic: int  # pitch class 0..11 (C = 0)
    minor: bool

    @property
    def name(self) -> str:
        """The key as MIDI files name it (``"Eb"``, ``"C#m"``; :func:`~styletx.music.chords.key_symbol`)."""
        return key_symbol(self.tonic, self.minor)


@dataclass(frozen=True)
class ChordSymbol:
    """A chord symbol written in a score: where, as written, and as one of the model's chords."""

    tick: int
    figure: str  # as the score spells it, e.g. "B-7 add b9"; "N.C." for no chord
    chord: Chord | None  # None: no chord (N.C.)


@dataclass
class Song:
    """A whole MIDI file: its parts and its global maps, in ticks."""

    resolution: int  # ticks per quarter note
    tracks: list[Track]
    tempos: list[TempoChange] = field(default_factory=list)
    time_signatures: list[TimeSignature] = field(default_factory=list)
    key_signatures: list[KeySignature] = field(default_factory=list)
    midi_type: int = 1
    source: str = ""
    events: list[tuple[int, bytes]] = field(default_factory=list)
    """Meta and sysex events that belong to no single part (a conductor track's text and
    markers, a karaoke lyrics track, the metas of a type-0 track); written in the conductor."""
    lyrics: list[tuple[int, str]] = field(default_factory=list)
    """Every lyric event (meta 0x05) of the file, and karaoke text (meta 0x01 in a ``.kar``
    words track), as ``(tick, text)`` sorted by tick; used to find the sung part."""
    chord_symbols: list[ChordSymbol] = field(default_factory=list)
    """A score's own chord symbols (MusicXML ``<harmony>``), sorted by tick: the chart the
    accompaniment follows unless the caller gives other chords; empty for MIDI."""
    title: str = ""
    composer: str = ""
    notation: list[Any] = field(default_factory=list)
    """For a score input, each track's music21 part as written (repeats unfolded, written
    pitch), parallel to ``tracks``, so that the MusicXML writer can write the melody back
    as it came in; empty for MIDI."""
    read_notes: list[str] = field(default_factory=list)
    """What reading did that the user should know (e.g. "repeats unfolded: 8 bars become 16")."""

    @property
    def end_tick(self) -> int:
        """Last note end (or start) over all tracks; 0 for a file with no notes."""
        return max((max(n.end, n.start) for t in self.tracks for n in t.notes), default=0)


@dataclass
class Parts:
    """A song split into the roles styletx cares about."""

    melody: Track
    accompaniment: list[Track]
    drums: list[Track]
    reason: str  # why this melody was chosen, for `styletx info`
    ranking: list[tuple[str, float]] = field(default_factory=list)  # candidates, best first
