"""Which parts of a song are the melody, the accompaniment and the drums.

:func:`select_parts` applies the scores of :mod:`styletx.music.melody` (or the
user's choice); :func:`skyline` splits a polyphonic part into its top line and
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from styletx.errors import BadMidiError, NoMelodyError, StyleTxError
from styletx.music.melody import (
    MIN_SCORE,
    MONOPHONIC_MAX_OVERLAP,
    candidates,
    describe_part,
    overlap_fraction,
)
from styletx.music.song import Note, Parts, Song, Track


@dataclass(frozen=True)
class PartStats:
    """What the melody heuristic looks at in one part."""

    notes: int
    max_polyphony: int
    overlap: float  # fraction of sounding time with 2+ notes, legato overlaps ignored
    mean_pitch: float

    @property
    def monophonic(self) -> bool:
        return self.overlap <= MONOPHONIC_MAX_OVERLAP


def part_stats(track: Track, resolution: int) -> PartStats:
    """Measure a part for the melody heuristic.

    ``overlap`` ignores the last ``resolution // 8`` ticks (a 32nd note) of every
    note, so legato playing, where a note ends just after the next begins,
    still counts as monophonic.
    """
    mean = sum(n.pitch for n in track.notes) / len(track.notes) if track.notes else 0.0
    return PartStats(
        notes=len(track.notes),
        max_polyphony=track.max_polyphony,
        overlap=overlap_fraction(track.notes, resolution),
        mean_pitch=mean,
    )


SKYLINE = "skyline"
"""``melody_track`` value that takes the top line of all pitched parts together as the melody."""


def select_parts(song: Song, melody_track: int | str | None = None) -> Parts:
    """Split a song into melody, accompaniment and drums.

    Parameters
    ----------
    song
        A song with at least one non-drum part.
    melody_track
        The melody's part index (position in ``song.tracks``) or name
        (case-insensitive); overrides the choice. :data:`SKYLINE` (``"skyline"``,
        when no part has that name) takes the highest note at each onset of all
        pitched parts together as the melody, and the rest as the accompaniment.

    Returns
    -------
    Parts
        The melody, the other pitched parts in file order, the drum parts, the
        reason for the choice and the ranking of the candidates:

        1. Only one non-drum part: if it is monophonic (see :class:`PartStats`)
           it is the melody and the accompaniment is empty; else it is split by
           :func:`skyline`.
        2. Otherwise every part (or, for a polyphonic part, its skyline) is
           scored on documented features (:mod:`styletx.music.melody`) and the best
           one is the melody.

    Raises
    ------
    NoMelodyError
        Several parts and none clearly carries a melody (the best score is
        under :data:`styletx.music.melody.MIN_SCORE`).
    StyleTxError
        The requested part does not exist, is ambiguous or is a drum part, or
        the song has no pitched part.
    """
    pitched = [t for t in song.tracks if not t.is_drum]
    drums = [t for t in song.tracks if t.is_drum]
    if not pitched:
        raise BadMidiError("the file has only drums; styletx needs a pitched melody")

    def others(melody: Track) -> list[Track]:
        return [t for t in pitched if t is not melody]

    if (isinstance(melody_track, str) and melody_track.strip().casefold() == SKYLINE
            and not any(t.name.strip().casefold() == SKYLINE for t in song.tracks)):
        merged = Track(name="Skyline", program=pitched[0].program, is_drum=False,
                       notes=sorted(n for t in pitched for n in t.notes), index=-1,
                       channel=pitched[0].channel)
        melody, accompaniment = skyline(merged, song.resolution)
        melody.origin = accompaniment.origin = None
        return Parts(melody, [accompaniment] if accompaniment.notes else [], drums,
                     "requested: the skyline (highest note at each onset) of all "
                     f"{len(pitched)} pitched parts")

    if melody_track is not None:
        melody = _find_part(song, melody_track)
        return Parts(melody, others(melody), drums, f"requested: {_describe(melody)}")

    if len(pitched) == 1:
        only = pitched[0]
        stats = part_stats(only, song.resolution)
        if stats.monophonic:
            return Parts(only, [], drums, f"{_describe(only)} is the only non-drum part and is "
                                          "monophonic: melody only, no accompaniment")
        melody, accompaniment = skyline(only, song.resolution)
        return Parts(
            melody,
            [accompaniment] if accompaniment.notes else [],
            drums,
            f"{_describe(only)} is the only non-drum part and is polyphonic (up to "
            f"{stats.max_polyphony} notes at once): split by skyline, the highest note "
            "at each onset is the melody",
        )

    ranked = candidates(song, pitched, skyline)
    ranking = [(c.label(), c.score) for c in ranked]
    best = ranked[0]
    runner = (f"; runner-up {ranked[1].label()} ({ranked[1].score:+.1f}, margin "
              f"{best.score - ranked[1].score:.1f})") if len(ranked) > 1 else ""
    if best.score < MIN_SCORE:
        raise NoMelodyError(
            f"no part clearly carries a melody (best: {best.label()}, score {best.score:+.1f} "
            f"< {MIN_SCORE:g}: {best.why()}); give --melody-track X, or --melody skyline for "
            "the top line of all parts", ranking=ranking)
    reason = f"{best.label()}: score {best.score:+.1f} ({best.why()}){runner}"
    if best.skyline:
        melody, rest = skyline(best.part, song.resolution)
        accompaniment = [rest if t is best.part else t for t in pitched]
        accompaniment = [t for t in accompaniment if t.notes]
        return Parts(melody, accompaniment, drums, reason, ranking)
    return Parts(best.part, others(best.part), drums, reason, ranking)


def _describe(track: Track) -> str:
    """Name a part in messages, e.g. "part 2 'Lead'"."""
    return describe_part(track)


def _find_part(song: Song, key: int | str) -> Track:
    """Return the part asked for by index or case-insensitive name, or raise."""
    if isinstance(key, int):
        if not 0 <= key < len(song.tracks):
            raise StyleTxError(
                f"no part {key}: the file has parts 0 to {len(song.tracks) - 1}"
            )
        found = song.tracks[key]
    else:
        matches = [t for t in song.tracks if t.name.strip().casefold() == key.strip().casefold()]
        pitched = [t for t in matches if not t.is_drum]
        if not matches:
            known = ", ".join(repr(t.name) for t in song.tracks if t.name) or "none"
            raise StyleTxError(f"no part named {key!r} (named parts: {known})")
        if len(pitched) > 1:
            indices = ", ".join(str(t.index) for t in pitched)
            raise StyleTxError(f"several parts are named {key!r} ({indices}); give an index")
        found = (pitched or matches)[0]
    if found.is_drum:
        raise StyleTxError(f"{_describe(found)} is a drum part and cannot be the melody")
    return found


def skyline(track: Track, resolution: int) -> tuple[Track, Track]:
    """Split a polyphonic part into melody (top line) and accompaniment (the rest).

    Notes are taken onset by onset. At each onset the highest note (the
    longest, then loudest, of equal highest pitches) is melody -- unless an
    earlier melody note of higher pitch is still held more than
    ``resolution // 8`` ticks (a 32nd note; shorter is legato) past this onset,
    in which case it goes to the accompaniment. Every other note at the onset
    is accompaniment. Melody notes keep their exact ticks, so a melody note may
    overlap the start of the next one.

    Returns
    -------
    (Track, Track)
        Melody and accompaniment, named after the part, with ``index`` -1.
    """
    legato = resolution // 8
    order = sorted(track.notes, key=lambda n: (n.start, -n.pitch, -n.end, -n.velocity))
    melody: list[Note] = []
    rest: list[Note] = []
    held: list[Note] = []  # melody notes that may still sound
    prev_start = None
    for n in order:
        if n.start == prev_start:
            rest.append(n)
            continue
        prev_start = n.start
        held = [m for m in held if m.end - n.start > legato]
        if any(m.pitch > n.pitch for m in held):
            rest.append(n)
        else:
            melody.append(n)
            held.append(n)
    base = track.name or "Piano"
    common = {"program": track.program, "is_drum": False, "index": -1,
              "origin": track.index if track.index >= 0 else track.origin}
    return (
        Track(name=f"{base} (melody)", notes=sorted(melody), channel=track.channel,
              events=list(track.events), **common),
        Track(name=f"{base} (accompaniment)", notes=sorted(rest), channel=None, **common),
    )

