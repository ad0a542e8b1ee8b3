"""What ``styletx info`` says about a MIDI file or a score, as data: a library function, so the CLI,
a service or a notebook get the same answer and format it their own way.

The chord chart is estimated per half bar whatever style will render the file, on
purpose: ``info`` describes a file, not a transfer, so it takes no style. It reads the
chords at :class:`~styletx.styles.StyleInfo`'s default harmonic rhythm, the one the MMA
styles render with and the one a chart written as ``'C | Am7 | Dm7 G7 | C'`` (``render
--chords``) spells, two chords a bar at most. A per-beat chart (bach's rhythm) would be
too busy to read or to paste back as ``--chords``.
"""

from __future__ import annotations

from typing import Any

import pretty_midi

from styletx.errors import NoMelodyError
from styletx.io.files import StrPath
from styletx.music.charts import chord_chart
from styletx.music.grid import build_grid
from styletx.music.parts import part_stats, select_parts
from styletx.music.song import Parts, Song
from styletx.music.timing import bar_number, bar_starts, duration_seconds, has_pickup, tick_to_seconds
from styletx.score.read import read_song
from styletx.styles import StyleInfo

CHART_RHYTHM = StyleInfo.harmonic_rhythm
"""How often the chords of ``info``'s chart may change (see the module docstring)."""
CHART_STEPS = 4
"""Grid steps per beat for the chart: the chords need no finer grid."""


def describe_file(src: StrPath | bytes, melody_track: int | str | None = None) -> dict[str, Any]:
    """:func:`describe` of a MIDI file or a score (a path or the file's bytes, as
    :func:`~styletx.score.read.read_song` takes), its melody chosen as ``render`` would
    (or ``melody_track``); a file without a clear melody is described, not refused.

    Raises
    ------
    StyleTxError
        The file cannot be read (:func:`~styletx.score.read.read_song`), or ``melody_track``
        names no part.
    """
    song = read_song(src)
    try:
        parts: Parts | NoMelodyError = select_parts(song, melody_track)
    except NoMelodyError as e:
        parts = e
    return describe(song, parts)


def describe(song: Song, parts: Parts | NoMelodyError) -> dict[str, Any]:
    """Everything ``styletx info`` reports, as plain JSON-ready data.

    ``parts`` is the :class:`NoMelodyError` when no part clearly carries a melody; the
    report then says so and every pitched part is accompaniment."""
    map_ticks = [e.tick for e in (*song.tempos, *song.time_signatures, *song.key_signatures)]
    starts = bar_starts(song, max([song.end_tick, *(t + 1 for t in map_ticks)]))
    n_bars = len(bar_starts(song))

    def at(tick: int) -> dict[str, Any]:
        return {"tick": tick, "bar": bar_number(song, starts, tick),
                "seconds": round(tick_to_seconds(song, tick), 6)}

    if isinstance(parts, NoMelodyError):
        roles = {id(t): "drums" if t.is_drum else "accompaniment" for t in song.tracks}
        melody: dict[str, Any] = {"index": None, "name": None, "notes": 0,
                                  "reason": str(parts), "candidates": parts.ranking}
    else:
        roles = {id(parts.melody): "melody"}
        roles.update({id(t): "accompaniment" for t in parts.accompaniment})
        roles.update({id(t): "drums" for t in parts.drums})
        melody = {"index": parts.melody.index, "name": parts.melody.name,
                  "notes": len(parts.melody.notes), "reason": parts.reason,
                  "candidates": parts.ranking}
        if parts.melody.origin is not None:
            roles[id(song.tracks[parts.melody.origin])] = "melody (its skyline)"
    tracks = []
    for t in song.tracks:
        stats = part_stats(t, song.resolution)
        tracks.append({
            "index": t.index,
            "name": t.name,
            "channel": t.channel,
            "program": t.program,
            "instrument": "Drums" if t.is_drum else pretty_midi.program_to_instrument_name(
                t.program),
            "is_drum": t.is_drum,
            "notes": stats.notes,
            "max_polyphony": stats.max_polyphony,
            "mean_pitch": round(stats.mean_pitch, 2),
            "role": roles.get(id(t), "split by skyline"),
        })
    return {
        "file": song.source,
        "midi_type": song.midi_type,
        "resolution": song.resolution,
        "duration_seconds": round(duration_seconds(song), 3),
        "bars": n_bars,
        "pickup": has_pickup(song),
        "tracks": tracks,
        "melody": melody,
        "lyrics": len(song.lyrics),
        "tempos": [{**at(t.tick), "bpm": round(t.bpm, 3), "us_per_quarter": t.us_per_quarter}
                   for t in song.tempos],
        "time_signatures": [{**at(ts.tick), "numerator": ts.numerator,
                             "denominator": ts.denominator} for ts in song.time_signatures],
        "key_signatures": [{**at(k.tick), "key": k.name, "tonic": k.tonic, "minor": k.minor}
                           for k in song.key_signatures],
        "chords": _chart(song, parts),
        "chords_per": CHART_RHYTHM,
        "title": song.title,
        "composer": song.composer,
        "chord_symbols": [{**at(c.tick), "symbol": c.figure,
                           "chord": c.chord.name if c.chord else "N.C."}
                          for c in song.chord_symbols],
        "read_notes": song.read_notes,
    }


def _chart(song: Song, parts: Parts | NoMelodyError) -> str | None:
    """The chords styletx hears in the file, one per half bar at most (:data:`CHART_RHYTHM`)."""
    if isinstance(parts, NoMelodyError):
        return None
    return chord_chart(build_grid(song, parts, CHART_STEPS, CHART_RHYTHM))
