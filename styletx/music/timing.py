"""Bars and seconds from a song's tempo and time-signature maps.

The maps in a :class:`~styletx.music.song.Song` are kept exactly as the file had
them, so they may be empty or start after tick 0. The functions here fill in
the MIDI defaults (120 bpm, 4/4 until the first event) so that every caller --
``styletx info``, the frame grid, the limits in :mod:`styletx.io.reader` -- counts
bars and seconds the same way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import TypeVar

from styletx.music.song import Song, TempoChange, TimeSignature

_T = TypeVar("_T")


def _cached(song: Song, name: str, key: tuple, compute: Callable[[], _T]) -> _T:
    """``compute()``, memoised on ``song`` while ``key`` (the maps' identity and size) holds.

    Files from notation programs carry thousands of tempo events; recomputing a map for
    every question made ``styletx info`` quadratic in them (167 s for 20,000)."""
    cache = song.__dict__.setdefault("_timing_cache", {})
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    cache[name] = (key, value)
    return value


def _tempo_key(song: Song) -> tuple:
    return (id(song.tempos), len(song.tempos), song.resolution)


def _meter_key(song: Song) -> tuple:
    return (id(song.time_signatures), len(song.time_signatures), song.resolution)

DEFAULT_US_PER_QUARTER = 500_000
"""MIDI's tempo before the first set_tempo event (120 bpm)."""

DEFAULT_TIME_SIGNATURE = (4, 4)
"""MIDI's meter before the first time_signature event."""


def tempo_map(song: Song) -> list[TempoChange]:
    """Return the tempo map with a tick-0 entry and one entry per tick (the last one wins)."""
    return list(_cached(song, "tempo_map", _tempo_key(song), lambda: _tempo_map(song)))


def _tempo_map(song: Song) -> list[TempoChange]:
    by_tick: dict[int, TempoChange] = {0: TempoChange(0, DEFAULT_US_PER_QUARTER)}
    for t in sorted(song.tempos, key=lambda t: t.tick):
        by_tick[t.tick] = t
    return [by_tick[k] for k in sorted(by_tick)]


def meter_map(song: Song) -> list[TimeSignature]:
    """Return the time-signature map with a tick-0 entry and one entry per tick."""
    return list(_cached(song, "meter_map", _meter_key(song), lambda: _meter_map(song)))


def _meter_map(song: Song) -> list[TimeSignature]:
    by_tick: dict[int, TimeSignature] = {0: TimeSignature(0, *DEFAULT_TIME_SIGNATURE)}
    for ts in sorted(song.time_signatures, key=lambda ts: ts.tick):
        by_tick[ts.tick] = ts
    return [by_tick[k] for k in sorted(by_tick)]


def tick_to_seconds(song: Song, tick: int) -> float:
    """Return the time in seconds of ``tick`` under the song's tempo map.

    O(log n) per call after an O(n log n) first call (the map's start ticks and the seconds
    at each are kept on the song until its tempo list changes)."""
    ticks, seconds, us = _cached(song, "seconds", _tempo_key(song), lambda: _seconds_table(song))
    if tick <= 0:
        return 0.0
    i = bisect_right(ticks, tick) - 1
    return seconds[i] + (tick - ticks[i]) * us[i] / 1e6 / song.resolution


def _seconds_table(song: Song) -> tuple[list[int], list[float], list[int]]:
    """Start tick, start time in seconds and tempo of every segment of the tempo map."""
    tempos = _cached(song, "tempo_map", _tempo_key(song), lambda: _tempo_map(song))
    ticks = [t.tick for t in tempos]
    us = [t.us_per_quarter for t in tempos]
    seconds = [0.0]
    for i in range(1, len(tempos)):
        seconds.append(seconds[-1] + (ticks[i] - ticks[i - 1]) * us[i - 1] / 1e6 / song.resolution)
    return ticks, seconds, us


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
    return _cached(song, "pickup", _meter_key(song), lambda: _has_pickup(song))


def _has_pickup(song: Song) -> bool:
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
