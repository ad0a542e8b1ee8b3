"""Bars and seconds from a song's tempo and time-signature maps.

The maps in a :class:`~styletx.song.Song` are kept exactly as the file had
them, so they may be empty or start after tick 0. The functions here fill in
the MIDI defaults (120 bpm, 4/4 until the first event) so that every caller --
``styletx info``, the frame grid, the limits in :mod:`styletx.midi_io` -- counts
bars and seconds the same way.
"""

from __future__ import annotations

from bisect import bisect_right

from styletx.song import Song, TempoChange, TimeSignature

DEFAULT_US_PER_QUARTER = 500_000
"""MIDI's tempo before the first set_tempo event (120 bpm)."""

DEFAULT_TIME_SIGNATURE = (4, 4)
"""MIDI's meter before the first time_signature event."""


def tempo_map(song: Song) -> list[TempoChange]:
    """Return the tempo map with a tick-0 entry and one entry per tick (the last one wins)."""
    by_tick: dict[int, TempoChange] = {0: TempoChange(0, DEFAULT_US_PER_QUARTER)}
    for t in sorted(song.tempos, key=lambda t: t.tick):
        by_tick[t.tick] = t
    return [by_tick[k] for k in sorted(by_tick)]


def meter_map(song: Song) -> list[TimeSignature]:
    """Return the time-signature map with a tick-0 entry and one entry per tick."""
    by_tick: dict[int, TimeSignature] = {0: TimeSignature(0, *DEFAULT_TIME_SIGNATURE)}
    for ts in sorted(song.time_signatures, key=lambda ts: ts.tick):
        by_tick[ts.tick] = ts
    return [by_tick[k] for k in sorted(by_tick)]


def tick_to_seconds(song: Song, tick: int) -> float:
    """Return the time in seconds of ``tick`` under the song's tempo map."""
    seconds = 0.0
    tempos = tempo_map(song)
    for here, after in zip(tempos, [*tempos[1:], None], strict=True):
        stop = tick if after is None else min(tick, after.tick)
        if stop <= here.tick:
            break
        seconds += (stop - here.tick) * here.us_per_quarter / 1e6 / song.resolution
    return seconds


def duration_seconds(song: Song) -> float:
    """Return the length of the music (up to the last note end) in seconds."""
    return tick_to_seconds(song, song.end_tick)


def bar_length(ts: TimeSignature, resolution: int) -> int:
    """Return a bar's length in ticks, rounded to a whole tick (at least 1).

    Odd resolutions (e.g. 90 ticks per quarter in 7/16) give bars that are not a
    whole number of ticks; the grid rounds the same way.
    """
    return max(1, round(resolution * 4 * ts.numerator / ts.denominator))


def bar_starts(song: Song, end_tick: int | None = None) -> list[int]:
    """Return the start tick of every bar up to ``end_tick``.

    Parameters
    ----------
    song
        The song whose time-signature map (and resolution) defines the bars.
    end_tick
        Where the music stops; defaults to ``song.end_tick``.

    Returns
    -------
    list of int
        Bar start ticks, increasing, starting with 0: the bars of each
        time signature run until the next one, the last until ``end_tick``.
        Every time-signature event starts a new bar, even one that falls
        mid-bar, so a 1/4 bar at tick 0 followed by 4/4 encodes a pickup.
        Same rule as :func:`styletx.grid.bar_starts`.
    """
    end = song.end_tick if end_tick is None else end_tick
    meters = meter_map(song)
    starts: list[int] = []
    for i, here in enumerate(meters):
        stop = meters[i + 1].tick if i + 1 < len(meters) else max(end, here.tick + 1)
        starts.extend(range(here.tick, stop, bar_length(here, song.resolution)))
    return starts


def has_pickup(song: Song) -> bool:
    """Return whether the first bar is a pickup (anacrusis).

    True when the second time signature falls exactly at the end of the first
    bar and the first bar is shorter than the bar after it -- the standard
    MIDI encoding of a pickup, e.g. 1/4 at tick 0 then 4/4.
    """
    meters = meter_map(song)
    if len(meters) < 2:
        return False
    first = bar_length(meters[0], song.resolution)
    return meters[1].tick == first and first < bar_length(meters[1], song.resolution)


def bar_index(starts: list[int], tick: int) -> int:
    """Return the 0-based index in ``starts`` of the bar containing ``tick``."""
    return max(bisect_right(starts, tick) - 1, 0)


def bar_number(song: Song, starts: list[int], tick: int) -> int:
    """Return the printed bar number of ``tick``: a pickup is bar 0, else bars count from 1."""
    return bar_index(starts, tick) + (0 if has_pickup(song) else 1)
