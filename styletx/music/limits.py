"""Where a piece ends, stuck notes, and meters a style was not trained on.

Extent
------
The piece ends where its music ends: the last melody note's end, or where the
accompaniment (and drums) really play. A note held far past the last onset of
the whole piece -- more than :data:`STUCK_QUARTERS` quarter notes, as a lost
note-off produces -- is *stuck*: it is cut at the end of the music (the latest
melody end, non-stuck note end or last onset) with a warning, so a 1,000-bar
bass note no longer makes a 1,000-bar grid. The melody is never cut: it is
written from the input's own ticks.

:func:`clip_notes` then keeps the new accompaniment inside that end: a note
starting at or after it is dropped and one sounding past it is shortened, so
the output never runs past the song (the grid rounds up to a whole bar).

Meters
------
:func:`meter_warning` says, in one line, when the input uses a time signature
outside a style's trained meters (``StyleInfo.meters``) and what styletx does
then: the bars keep the input's length; an odd bar (5/4, 7/8, ...) is counted in
its beat groups (3+2, 2+2+3, :mod:`styletx.music.meter`), each read as a short
bar; any other untrained bar is sampled as written, at positions the model never
saw in training.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from styletx.music.meter import beat_groups
from styletx.music.song import Note, Parts, Song, TimeSignature, Track
from styletx.music.timing import bar_number, bar_starts, has_pickup, meter_map

STUCK_QUARTERS = 16
"""A note sounding more than this many quarter notes past the piece's last onset is stuck."""


def music_end(song: Song, parts: Parts) -> int:
    """The tick where the music ends (see the module docstring); stuck notes do not count."""
    notes = [n for t in (parts.melody, *parts.accompaniment, *parts.drums) for n in t.notes]
    if not notes:
        return 0
    last_onset = max(n.start for n in notes)
    allowed = last_onset + STUCK_QUARTERS * song.resolution
    ends = [max(n.end, n.start) for n in notes if n.end <= allowed]
    melody_end = max((n.end for n in parts.melody.notes), default=0)
    return max(melody_end, last_onset + 1, *ends)


def cut_stuck_notes(song: Song, parts: Parts) -> tuple[Parts, int]:
    """Return ``parts`` with stuck accompaniment and drum notes cut at the music's end, and
    that end. Parts without a stuck note are returned as they are (the same objects).

    Logs one warning on the ``styletx`` logger naming the count, the pitches and the bar.
    """
    end = music_end(song, parts)
    cut: list[Note] = []

    def fix(track: Track) -> Track:
        stuck = [n for n in track.notes if n.end > end and n.start < end]
        if not stuck:
            return track
        cut.extend(stuck)
        notes = [replace(n, end=end) if n.end > end else n for n in track.notes if n.start < end]
        return replace(track, notes=notes)

    new = replace(parts, accompaniment=[fix(t) for t in parts.accompaniment],
                  drums=[fix(t) for t in parts.drums])
    if cut:
        starts = bar_starts(song, max(n.end for n in cut))
        longest = max(cut, key=lambda n: n.end - n.start)
        bars = (longest.end - longest.start) / (song.resolution * 4)
        logging.getLogger(__name__).warning(
            "%d stuck note(s) (the longest, pitch %d, lasts %.0f bars of 4/4; a lost note-off?) "
            "cut where the music ends (end of bar %d)", len(cut), longest.pitch, bars,
            bar_number(song, starts, max(end - 1, 0)))
    return new, end


def clip_notes(notes: Sequence[Note], end: int) -> list[Note]:
    """Keep notes inside ``[0, end)``: drop those starting at or after ``end``, shorten the rest."""
    return [n if n.end <= end else replace(n, end=end) for n in notes if n.start < end]


def clip_tracks(tracks: Sequence[Track], end: int, keep: Sequence[Track] = ()) -> list[Track]:
    """:func:`clip_notes` on every track except those in ``keep`` (by identity: the melody)."""
    kept = {id(t) for t in keep}
    return [t if id(t) in kept or all(n.end <= end for n in t.notes)
            else replace(t, notes=clip_notes(t.notes, end)) for t in tracks]


def meter_warning(song: Song, meters: Sequence[str], style: str) -> str | None:
    """One line when ``song`` uses a meter outside ``meters`` (e.g. ``["4/4", "3/4"]``), else None.

    An empty ``meters`` (a style whose card does not say) gives None. A pickup bar's
    signature (e.g. 1/4 before 4/4, :func:`~styletx.music.timing.has_pickup`) is not a
    meter of the piece: the grid counts it as the end of a full bar.
    """
    if not meters:
        return None
    used: dict[str, TimeSignature] = {}
    mm = meter_map(song)
    starts = bar_starts(song)
    for ts in mm[1:] if has_pickup(song) else mm:
        if ts.tick <= max(song.end_tick - 1, 0):
            used.setdefault(f"{ts.numerator}/{ts.denominator}", ts)
    outside = [m for m in used if m not in meters]
    if not outside:
        return None
    where = ", ".join(f"{m} (from bar {bar_number(song, starts, used[m].tick)})" for m in outside)
    grouped = {m: beat_groups(used[m]) for m in outside}
    how = "; ".join(f"{m} bars are counted as {g.label} and each group is sampled as a short bar"
                    for m, g in grouped.items() if g is not None)
    if any(g is None for g in grouped.values()):
        how += "; other bars are sampled as written" if how else "its bars are sampled as written"
    return (f"{where} is not among the {style} style's trained meters ({', '.join(meters)}): "
            f"styletx keeps the input's bars; {how}; expect a weaker sense of the meter")
