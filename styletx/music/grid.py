"""The score grid: a piece as frames on a beat-relative grid.

A frame is ``1 / steps_per_beat`` of a quarter note, measured in MIDI ticks
(``resolution / steps_per_beat`` ticks), never in seconds, so tempo changes do
not move the grid. Bar lines come from the time-signature map.

The arrays (accompaniment ``uint8 [T, 128]`` cells, melody ``int16 [T]`` tokens,
``[T, N_META]`` metadata) use the codes of :mod:`styletx.music.encoding`.

Quantisation rule (:func:`quantize_note`): a note's onset goes to the nearest
frame boundary, its end to the nearest frame boundary, and a note that would
then last less than one frame lasts exactly one frame. When two notes of one
pitch overlap on the grid, the later onset cuts the earlier note. Every change
is counted in a :class:`QuantizationReport`.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from styletx.music.chords import chord_track, key_symbol
from styletx.music.encoding import (
    HOLD,
    MAX_BAR_STEPS,
    N_BAR_LENGTHS,
    N_KEYS,
    N_MIDI_PITCHES,
    OFF,
    ONSET,
    key_code,
    melody_token,
)
from styletx.music.meter import beat_groups
from styletx.music.song import KeySignature, Note, Parts, Song, TimeSignature
from styletx.music.timing import bar_length, bar_starts, meter_map

# Krumhansl-Kessler key profiles (the ones music21's KrumhanslSchmuckler uses).
# Estimating the key here with numpy keeps gridding fast; music21's analysis of a
# parsed stream gives the same answer for the same profiles but costs seconds.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KEY_DISAGREEMENT = 0.25
"""How much better (in correlation) the best key must fit than the signature's to overrule it."""
_log = logging.getLogger("styletx")
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass
class QuantizationReport:
    """What quantisation changed, so users can see how lossy the grid was."""

    notes: int = 0
    onsets_moved: int = 0
    ends_moved: int = 0
    max_onset_error_ticks: int = 0
    lengthened_to_one_frame: int = 0
    cut_by_later_onset: int = 0
    dropped_same_frame: int = 0

    def summary(self) -> str:
        """One line for logs and `styletx info`."""
        return (
            f"{self.notes} notes: {self.onsets_moved} onsets moved "
            f"(max {self.max_onset_error_ticks} ticks), {self.ends_moved} ends moved, "
            f"{self.lengthened_to_one_frame} lengthened to one frame, "
            f"{self.cut_by_later_onset} cut by a later onset, "
            f"{self.dropped_same_frame} dropped (same pitch, same frame)"
        )


@dataclass
class Grid:
    """A piece on the frame grid, with per-frame metadata.

    Attributes
    ----------
    steps_per_beat, resolution
        Frames per quarter note, and the MIDI ticks per quarter note they derive from.
    melody
        ``int16 [T]`` melody tokens.
    accomp
        ``uint8 [T, 128]`` accompaniment cell states over all MIDI pitches.
    beat_step, bar_step, bar_index, bar_beats
        ``int32 [T]``: step within the (quarter) beat, step within the bar,
        bar number (0-based), and the bar's length in quarter beats, rounded up.
    key
        ``int16 [T]``: tonic pitch class + 12 if minor.
    chords
        ``int16 [T]``: chord token per frame (:mod:`styletx.music.chords`), estimated
        from the full texture unless given.
    key_estimated
        True when the key was estimated from the notes (no key signature, or
        one the notes contradict).
    report
        What quantisation changed.
    """

    steps_per_beat: int
    resolution: int
    melody: np.ndarray
    accomp: np.ndarray
    beat_step: np.ndarray
    bar_step: np.ndarray
    bar_index: np.ndarray
    bar_beats: np.ndarray
    key: np.ndarray
    chords: np.ndarray
    key_estimated: bool = False
    report: QuantizationReport = field(default_factory=QuantizationReport)

    @property
    def n_frames(self) -> int:
        return int(self.melody.shape[0])

    @property
    def n_bars(self) -> int:
        return int(self.bar_index[-1]) + 1 if self.n_frames else 0

    def frame_tick(self, frame: int) -> int:
        """Tick of a frame boundary (frame ``T`` is the end of the grid)."""
        return frame_to_tick(frame, self.resolution, self.steps_per_beat)

    def meta(self, max_bar_steps: int = MAX_BAR_STEPS) -> np.ndarray:
        """The model's ``[T, N_META]`` metadata (columns ``META_*``, :mod:`styletx.music.encoding`).

        Beat step, bar step, key, bar length and chord token.
        """
        return np.stack(
            [
                self.beat_step,
                np.minimum(self.bar_step, max_bar_steps - 1),
                self.key,
                np.clip(self.bar_beats, 0, N_BAR_LENGTHS - 1),
                self.chords,
            ],
            axis=1,
        ).astype(np.int64)

    def bar_mask(self, first_bar: int, last_bar: int) -> np.ndarray:
        """Boolean ``[T]``: frames in bars ``first_bar..last_bar`` (1-based, inclusive)."""
        return (self.bar_index >= first_bar - 1) & (self.bar_index <= last_bar - 1)


def frame_to_tick(frame: int, resolution: int, steps_per_beat: int) -> int:
    """Tick of a frame boundary: ``round(frame * resolution / steps_per_beat)``."""
    return round(frame * resolution / steps_per_beat)


def tick_to_frame(tick: int, resolution: int, steps_per_beat: int) -> int:
    """Nearest frame boundary to a tick (halves round to even, like numpy)."""
    return int(np.rint(tick * steps_per_beat / resolution))


def quantize_note(
    note: Note, resolution: int, steps_per_beat: int, report: QuantizationReport
) -> tuple[int, int]:
    """Frames ``(start, end)`` of a note, end exclusive, at least one frame long."""
    start = tick_to_frame(note.start, resolution, steps_per_beat)
    end = tick_to_frame(note.end, resolution, steps_per_beat)
    report.notes += 1
    onset_error = abs(frame_to_tick(start, resolution, steps_per_beat) - note.start)
    if onset_error:
        report.onsets_moved += 1
        report.max_onset_error_ticks = max(report.max_onset_error_ticks, onset_error)
    if end <= start:
        end = start + 1
        report.lengthened_to_one_frame += 1
    elif frame_to_tick(end, resolution, steps_per_beat) != note.end:
        report.ends_moved += 1
    return start, end


def _frame_spans(
    notes: Iterable[Note], n_frames: int, resolution: int, steps_per_beat: int,
    report: QuantizationReport | None,
) -> Iterator[tuple[Note, int, int]]:
    """``(note, start, end)`` in frames for each note that starts on the grid, end clipped to it.

    Every note is counted in ``report``, also one that starts past the grid's end.
    """
    report = report if report is not None else QuantizationReport()
    for note in notes:
        start, end = quantize_note(note, resolution, steps_per_beat, report)
        if start < n_frames:
            yield note, start, min(end, n_frames)


def notes_to_roll(
    notes: Iterable[Note],
    n_frames: int,
    resolution: int,
    steps_per_beat: int,
    report: QuantizationReport | None = None,
) -> np.ndarray:
    """Put notes on a ``[T, 128]`` off/onset/hold roll (see the module's quantisation rule)."""
    roll = np.zeros((n_frames, N_MIDI_PITCHES), dtype=np.uint8)
    spans: dict[int, list[tuple[int, int]]] = {}
    for note, start, end in _frame_spans(notes, n_frames, resolution, steps_per_beat, report):
        spans.setdefault(note.pitch, []).append((start, end))
    for pitch, items in spans.items():
        items.sort()
        for i, (start, end) in enumerate(items):
            if i + 1 < len(items):
                nxt = items[i + 1][0]
                if nxt == start:
                    report.dropped_same_frame += 1
                    continue
                if nxt < end:
                    report.cut_by_later_onset += 1
                    end = nxt
            roll[start, pitch] = ONSET
            roll[start + 1 : end, pitch] = HOLD
    return roll


def roll_to_notes(
    roll: np.ndarray, resolution: int, steps_per_beat: int, velocity: int | np.ndarray = 80
) -> list[Note]:
    """Read notes off a ``[T, 128]`` roll; a hold without a sounding note starts one.

    ``velocity`` is one value or a ``[T, 128]`` array read at each onset.
    """
    n_frames = roll.shape[0]
    notes: list[Note] = []
    frames, pitches = np.nonzero(roll)
    sounding = roll != OFF
    for t, p in zip(frames.tolist(), pitches.tolist(), strict=True):
        state = roll[t, p]
        if state == HOLD and t > 0 and sounding[t - 1, p]:
            continue
        end = t + 1
        while end < n_frames and roll[end, p] == HOLD:
            end += 1
        vel = int(velocity if np.isscalar(velocity) else velocity[t, p])
        notes.append(
            Note(
                start=frame_to_tick(t, resolution, steps_per_beat),
                end=frame_to_tick(end, resolution, steps_per_beat),
                pitch=int(p),
                velocity=vel,
            )
        )
    notes.sort()
    return notes


def repair_holds(roll: np.ndarray) -> np.ndarray:
    """Turn every hold that follows silence into an onset (in place; returns ``roll``).

    Holds are only meaningful after a sounding cell; resampling a frame can break
    that for the next frame, and this restores a valid roll.
    """
    if roll.shape[0] == 0:
        return roll
    bad = (roll[1:] == HOLD) & (roll[:-1] == OFF)
    roll[1:][bad] = ONSET
    roll[0][roll[0] == HOLD] = ONSET
    return roll


def melody_tokens(
    notes: Sequence[Note],
    n_frames: int,
    resolution: int,
    steps_per_beat: int,
    report: QuantizationReport | None = None,
) -> np.ndarray:
    """Melody tokens per frame; where melody notes overlap, the later onset wins."""
    tokens = np.zeros(n_frames, dtype=np.int16)
    for note, start, end in _frame_spans(sorted(notes), n_frames, resolution, steps_per_beat, report):
        tokens[start] = melody_token(note.pitch, onset=True)
        tokens[start + 1 : end] = melody_token(note.pitch, onset=False)
    return tokens


def key_fit(notes: Iterable[Note]) -> np.ndarray:
    """Krumhansl-Schmuckler correlation of each key code (``[24]``, tonic + 12·minor).

    The pitch classes are weighted by duration; a flat or empty histogram fits no key (all 0).
    """
    hist = np.zeros(12)
    for n in notes:
        hist[n.pitch % 12] += max(n.end - n.start, 1)
    fit = np.zeros(N_KEYS)
    if hist.std() == 0:  # no notes, or every pitch class equally: nothing to correlate
        return fit
    for minor, profile in ((0, _MAJOR_PROFILE), (1, _MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(hist, np.roll(profile, tonic))[0, 1]
            fit[key_code(tonic, bool(minor))] = r if np.isfinite(r) else 0.0
    return fit


def estimate_key(notes: Iterable[Note]) -> tuple[int, bool]:
    """Krumhansl-Schmuckler key estimate ``(tonic, minor)`` from duration-weighted pitch classes."""
    fit = key_fit(notes)
    if not fit.any():
        return 0, False
    best = int(np.argmax(fit))
    return best % 12, best >= 12


def build_grid(
    song: Song, parts: Parts, steps_per_beat: int = 4, harmonic_rhythm: str = "beat"
) -> Grid:
    """Put a song's melody and accompaniment on the grid, with metadata.

    Parameters
    ----------
    song
        The parsed file (for resolution and the time-signature and key maps).
    parts
        The melody/accompaniment split from :func:`styletx.music.parts.select_parts`.
    steps_per_beat
        Frames per quarter note: 4 = sixteenths; 6 or 12 hold triplets and swing.
    harmonic_rhythm
        How often the estimated chord track may change: ``"beat"`` or ``"half_bar"``.
    """
    if steps_per_beat < 1:
        raise ValueError("steps_per_beat must be positive")
    res = song.resolution
    acc_notes = [n for t in parts.accompaniment for n in t.notes]
    end_tick = max(
        (max(n.end, n.start + 1) for n in [*parts.melody.notes, *acc_notes]), default=1
    )
    starts = bar_starts(song, end_tick)
    meters = meter_map(song)
    # The grid ends at the end of the last bar that holds music.
    grid_end = starts[-1] + bar_length(_sig_at(meters, starts[-1]), res)
    n_frames = max(1, int(np.ceil(grid_end * steps_per_beat / res)))

    report = QuantizationReport()
    melody = melody_tokens(parts.melody.notes, n_frames, res, steps_per_beat, report)
    accomp = notes_to_roll(acc_notes, n_frames, res, steps_per_beat, report)

    frame_ticks = np.rint(np.arange(n_frames) * res / steps_per_beat).astype(np.int64)
    starts_arr = np.asarray(starts, dtype=np.int64)
    bar_index = np.searchsorted(starts_arr, frame_ticks, side="right") - 1
    bar_index = np.clip(bar_index, 0, len(starts) - 1)
    offset_ticks = frame_ticks - starts_arr[bar_index]
    sigs = [_sig_at(meters, s) for s in starts]
    bar_len_ticks = np.array([bar_length(sig, res) for sig in sigs], dtype=np.int64)
    # A pickup (a first bar shorter than the next bar's meter) is right-aligned:
    # its notes sit at the end of a full bar, where a musician counts them.
    if len(starts) > 1 and starts[1] - starts[0] < bar_len_ticks[1]:
        first = bar_index == 0
        offset_ticks[first] += bar_len_ticks[1] - (starts[1] - starts[0])
        bar_len_ticks[0] = bar_len_ticks[1]
        sigs[0] = sigs[1]
    offset_ticks, frame_len_ticks = group_offsets(sigs, bar_index, offset_ticks, bar_len_ticks, res)
    bar_step = np.rint(offset_ticks * steps_per_beat / res).astype(np.int32)
    beat_step = (bar_step % steps_per_beat).astype(np.int32)
    bar_beats = np.ceil(frame_len_ticks / res).astype(np.int32)

    key, estimated = _key_per_frame(song.key_signatures, frame_ticks, parts, acc_notes)
    grid = Grid(
        steps_per_beat=steps_per_beat,
        resolution=res,
        melody=melody,
        accomp=accomp,
        beat_step=beat_step,
        bar_step=bar_step,
        bar_index=bar_index.astype(np.int32),
        bar_beats=bar_beats,
        key=key,
        chords=np.zeros(n_frames, dtype=np.int16),
        key_estimated=estimated,
        report=report,
    )
    grid.chords = chord_track(melody, accomp, grid.meta(), steps_per_beat, per=harmonic_rhythm)
    return grid


def group_offsets(
    sigs: Sequence[TimeSignature], bar_index: np.ndarray, offset_ticks: np.ndarray,
    bar_len_ticks: np.ndarray, resolution: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's offset and "bar" length in ticks, with odd bars counted in their beat groups.

    In a bar that :func:`styletx.music.meter.beat_groups` groups (5/4 as 3+2), a frame's
    offset is counted from the start of its group and its length is the group's, so the
    model reads each group as a short bar (its first frame an accent and a beat start);
    other bars keep the bar line's offset and the bar's length.
    """
    offsets = offset_ticks.copy()
    lengths = bar_len_ticks[bar_index].copy()
    for b, sig in enumerate(sigs):
        groups = beat_groups(sig)
        if groups is None:
            continue
        here = np.flatnonzero(bar_index == b)
        bounds = np.array([*groups.starts(resolution), bar_len_ticks[b]], dtype=np.int64)
        g = np.clip(np.searchsorted(bounds, offsets[here], side="right") - 1, 0, len(bounds) - 2)
        offsets[here] -= bounds[g]
        lengths[here] = bounds[g + 1] - bounds[g]
    return offsets, lengths


def _sig_at(meters: Sequence[TimeSignature], tick: int) -> TimeSignature:
    """The time signature in force at ``tick`` (``meters`` from :func:`meter_map`)."""
    return meters[max(bisect_right([m.tick for m in meters], tick) - 1, 0)]


def _key_per_frame(
    keys: Sequence[KeySignature], frame_ticks: np.ndarray, parts: Parts, acc_notes: list[Note]
) -> tuple[np.ndarray, bool]:
    """The key code of every frame: from the key signatures, unless the notes contradict them.

    DAW files often carry a default C major signature whatever the music. A
    piece with one key signature whose key (or its relative) fits the notes
    clearly worse than the best Krumhansl-Schmuckler key gets the estimate.
    """
    notes = [*parts.melody.notes, *acc_notes]
    codes_in_file = {key_code(k.tonic, k.minor) for k in keys}
    if len(codes_in_file) == 1 and notes:
        code = codes_in_file.pop()
        fit = key_fit(notes)
        best = int(np.argmax(fit))
        relative = (code % 12 + 9) % 12 + 12 if code < 12 else (code % 12 + 3) % 12
        if fit[best] - max(fit[code], fit[relative]) > KEY_DISAGREEMENT:
            _log.warning("the key signature says %s but the notes say %s: using %s",
                         key_name(code), key_name(best), key_name(best))
            return np.full(len(frame_ticks), best, dtype=np.int16), True
    if not keys:
        tonic, minor = estimate_key(notes)
        return np.full(len(frame_ticks), key_code(tonic, minor), dtype=np.int16), True
    ordered = sorted(keys, key=lambda k: k.tick)
    ticks = np.array([k.tick for k in ordered])
    codes = np.array([key_code(k.tonic, k.minor) for k in ordered], dtype=np.int16)
    idx = np.clip(np.searchsorted(ticks, frame_ticks, side="right") - 1, 0, len(ordered) - 1)
    return codes[idx], False


def key_name(code: int) -> str:
    """``"A minor"`` for a key code (tonic + 12·minor), spelled as :func:`.chords.key_symbol`."""
    minor = code >= 12
    return f"{key_symbol(code % 12, minor).removesuffix('m')} {'minor' if minor else 'major'}"
