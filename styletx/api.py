"""The Python API: ``styletx.transfer`` and the file-to-file ``render``.

The flow for one piece: read the MIDI (:mod:`styletx.io.reader`), choose the
melody, put everything on the style's grid (:mod:`styletx.music.grid`), fold the
accompaniment into the model's pitch window, resample it (:mod:`styletx.model.sampler`),
voice the result as the style's instruments (:mod:`styletx.music.arrange`), and write
it beside the *original* melody notes, tempo, meter and key maps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes, write_midi
from styletx.model.sampler import resample_accompaniment
from styletx.model.settings import DEFAULT_SETTINGS, HarmonyPrior, Progress, SamplerSettings, Schedule
from styletx.music.arrange import fold_into_range, unfold, voice_parts
from styletx.music.charts import ChordChanges, changes_track, chord_chart, parse_chart, stream_chord_changes
from styletx.music.chords import NO_CHORD, Chord, harmonize, scale_mask
from styletx.music.grid import HOLD, MELODY_HOLD, MELODY_REST, OFF, ONSET, Grid, build_grid, roll_to_notes
from styletx.music.limits import clip_tracks, cut_stuck_notes
from styletx.music.parts import select_parts
from styletx.music.song import Note, Parts, Song, Track
from styletx.styles import Style, load_style

Source = str | os.PathLike | pretty_midi.PrettyMIDI | Any  # Any: a music21 stream

MAX_FRAMES = 24_000
"""Longest grid a transfer accepts: 1,500 bars of 4/4 at 4 steps per beat, about 50
minutes at 120 bpm. Sampling time grows linearly with frames (silent ones too), so a
file that passes the reader's limits with one note after a long silence stops here."""


@dataclass
class TransferResult:
    """The output tracks of one transfer, and what happened on the way."""

    song: Song
    tracks: list[Track]
    parts: Parts
    grid: Grid
    new_accomp: np.ndarray  # [T, 128]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def chart(self) -> str:
        """The chord chart the new accompaniment followed (see :func:`chord_chart`)."""
        return chord_chart(self.grid)

    def to_pretty_midi(self) -> pretty_midi.PrettyMIDI:
        return pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(self.song, self.tracks)))


def parse_bars(spec: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"5-12"`` or ``(5, 12)`` → ``(5, 12)``: 1-based, inclusive; ``"7"`` is one bar."""
    if spec is None:
        return None
    if isinstance(spec, tuple):
        first, last = spec
    else:
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", str(spec))
        if not m:
            raise StyleTxError(f"bad bar range {spec!r}: use FIRST-LAST, e.g. 5-12")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if first < 1 or last < first:
        raise StyleTxError(f"bad bar range {first}-{last}: bars count from 1 and LAST >= FIRST")
    return first, last


def load_source(src: Source) -> Song:
    """A path, a PrettyMIDI or a music21 stream, as a :class:`Song`."""
    if isinstance(src, str | os.PathLike | pretty_midi.PrettyMIDI | bytes):
        return read_midi(src)
    if _is_stream(src):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "stream.mid"
            src.write("midi", fp=str(path))
            return read_midi(path)
    raise StyleTxError(f"cannot read a {type(src).__name__}: give a path, PrettyMIDI or music21 stream")


def _is_stream(src: Any) -> bool:
    """A music21 stream (duck-typed, so music21 is imported only when one is given)."""
    return hasattr(src, "write") and hasattr(src, "flatten")


def _initial_window(grid: Grid, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """The sampler's start: the input's own accompaniment, or block chords if there is none.

    A melody-only input starts from its chord track played as plain block chords
    (the root below, the chord's tones above, struck at each change and each bar),
    and the sampler rewrites it all: this is what turns styletx into a harmoniser.
    Beats without a chord start from random in-key tones.
    """
    window = fold_into_range(grid.accomp, lo, hi)
    if window.any():
        return window
    pitches = np.arange(lo, hi)
    strike = np.zeros(grid.n_frames, dtype=bool)
    strike[np.flatnonzero(grid.bar_step == 0)] = True
    strike[0] = True
    strike[1:] |= np.diff(grid.chords) != 0
    beat = grid.bar_step % grid.steps_per_beat == 0
    for start in np.flatnonzero(strike | (beat & (grid.chords == NO_CHORD))):
        chord = Chord.from_token(int(grid.chords[start]))
        if chord is not None:
            tones = pitches[np.isin(pitches % 12, list(chord.pitch_classes)) & (pitches >= 52)]
            tones = tones[tones < 67]
            roots = pitches[(pitches % 12 == chord.root) & (pitches < 52)]
            voicing = np.concatenate([roots[-1:], tones[:3]])
        else:
            in_key = pitches[scale_mask(int(grid.key[start]))[pitches % 12]]
            middle = in_key[(in_key >= 48) & (in_key < 72)]
            pool = middle if middle.size >= 3 else in_key
            voicing = rng.choice(pool, size=min(3, pool.size), replace=False)
        later = np.flatnonzero(strike[start + 1 :] | beat[start + 1 :])
        stop = start + 1 + int(later[0]) if later.size else grid.n_frames
        window[start, voicing - lo] = ONSET
        window[start + 1 : stop, voicing - lo] = HOLD
    return window


def guide_melody(grid: Grid, min_frames: int) -> np.ndarray:
    """Melody tokens for the model: the melody, with the input accompaniment's top line in long rests.

    Where the melody rests for ``min_frames`` or more while the accompaniment plays
    (an intro, an instrumental break), the model reads that top line instead, so it
    keeps accompanying rather than falling silent. Only the model's input changes:
    the written melody is always the original.
    """
    tokens = grid.melody.astype(np.int64).copy()
    rest = tokens == MELODY_REST
    sounding = grid.accomp != OFF
    has = sounding.any(axis=1)
    top = 127 - np.argmax(sounding[:, ::-1], axis=1)
    onset = grid.accomp[np.arange(grid.n_frames), top] == ONSET
    edges = np.flatnonzero(np.diff(np.r_[0, rest.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a < min_frames:
            continue
        span = np.arange(a, b)[has[a:b]]
        tokens[span] = np.where(onset[span], 1 + top[span], MELODY_HOLD + top[span])
    return tokens


DEFAULT_THREADS = 1
"""Torch CPU threads while sampling. The sampler makes thousands of tiny tensor calls;
waking a thread pool for each made it 30-40x slower on a loaded 2-core machine, so every
entry point (API, CLI, batch) samples on one thread unless told otherwise."""


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch on ``n`` CPU threads, then restore the caller's setting."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _velocity(parts: Parts) -> int:
    acc = [n.velocity for t in parts.accompaniment for n in t.notes]
    if acc:
        return round(np.mean(acc))
    return round(0.8 * np.mean([n.velocity for n in parts.melody.notes]))


def transfer_song(
    song: Song,
    style: Style,
    *,
    settings: SamplerSettings = DEFAULT_SETTINGS,
    bars: tuple[int, int] | None = None,
    melody_track: int | str | None = None,
    keep_drums: bool = True,
    chords: str | ChordChanges | None = None,
    reharmonize: bool = False,
    progress: Progress | None = None,
    threads: int | None = DEFAULT_THREADS,
) -> TransferResult:
    """Resample a song's accompaniment in ``style``; the core of every entry point.

    ``threads`` is torch's CPU thread count while sampling, restored afterwards
    (:data:`DEFAULT_THREADS`; ``None`` leaves torch's own setting).

    The chord track the model follows is, in order of precedence: ``chords`` (a
    chart, see :func:`parse_chart`, or ``(tick, chord)`` changes); none at all with ``reharmonize`` (the model
    chooses the harmony); the chords estimated from the input's full texture; or,
    for a bare melody, the style's chord model's harmonisation (:func:`styletx.music.chords.harmonize`).
    """
    t0 = time.perf_counter()
    parts = select_parts(song, melody_track)
    parts, end = cut_stuck_notes(song, parts)  # the piece ends with its music (styletx.music.limits)
    grid = build_grid(song, parts, style.steps_per_beat, style.info.harmonic_rhythm)
    if grid.n_frames > MAX_FRAMES:
        raise StyleTxError(
            f"piece too long for style transfer: {grid.n_bars} bars, {grid.n_frames} frames "
            f"(limit {MAX_FRAMES}); cut it into sections")
    cfg = style.model.cfg
    rng = np.random.default_rng(settings.seed)
    melody_only = not fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi).any()
    notes: list[str] = []
    settings = _with_style_defaults(settings, style)
    if melody_only:
        notes.append("no accompaniment in the input: harmonising the melody from scratch")
        settings = dataclasses.replace(settings, strength=1.0)
        grid.chords = harmonize(grid.melody, grid.meta(), grid.steps_per_beat, style.chord_model)
    if isinstance(chords, str):
        grid.chords = parse_chart(chords, grid)
    elif chords is not None:
        grid.chords = changes_track(chords, grid)
    elif reharmonize:
        grid.chords = np.zeros_like(grid.chords)
    start = _initial_window(grid, cfg.pitch_lo, cfg.pitch_hi, rng)
    update = np.ones(grid.n_frames, dtype=bool)
    if bars is not None:
        if bars[0] > grid.n_bars:
            raise StyleTxError(f"bar range {bars[0]}-{bars[1]} starts after the last bar ({grid.n_bars})")
        update = grid.bar_mask(*bars)
    with torch_threads(threads):
        window = resample_accompaniment(
            style.model, guide_melody(grid, 2 * grid.steps_per_beat), start,
            grid.meta(cfg.max_bar_steps), update=update, settings=settings, progress=progress,
        )
    new_roll = unfold(window, cfg.pitch_lo)
    velocity = _velocity(parts)

    generated = roll_to_notes(new_roll, grid.resolution, grid.steps_per_beat, velocity)
    kept: list[Track] = []
    if bars is not None:
        # Outside the range the input's own accompaniment stays, note for note.
        lo_tick, hi_tick = grid.frame_tick(int(np.argmax(update))), grid.frame_tick(
            int(len(update) - np.argmax(update[::-1])))
        generated = [n for n in generated if lo_tick <= n.start < hi_tick]
        for track in parts.accompaniment:
            outside = [n for n in track.notes if not lo_tick <= n.start < hi_tick]
            if outside:
                kept.append(_replace_notes(track, outside))
    voiced = voice_parts(generated, style.info.instrumentation, style.info.bass_max_pitch)
    tracks = [parts.melody, *kept, *voiced, *(parts.drums if keep_drums else [])]
    tracks = clip_tracks(tracks, end, keep=[parts.melody])  # nothing sounds past the song
    return TransferResult(
        song=song, tracks=tracks, parts=parts, grid=grid, new_accomp=new_roll,
        seconds=time.perf_counter() - t0, notes=notes,
    )


def _with_style_defaults(settings: SamplerSettings, style: Style) -> SamplerSettings:
    """Fill in what the caller left to the style (``None``) from its ``style.json``."""
    info = style.info
    return dataclasses.replace(
        settings,
        temperature=info.temperature if settings.temperature is None else settings.temperature,
        prior=(HarmonyPrior(info.non_chord_prior, info.bass_root_prior, info.above_melody_prior)
               if settings.prior is None else settings.prior),
        voice_leading_tries=(info.voice_leading_tries if settings.voice_leading_tries is None
                             else settings.voice_leading_tries),
    )


def _replace_notes(track: Track, notes: list[Note]) -> Track:
    """The same part (name, program, channel, every other event) with other notes."""
    return dataclasses.replace(track, notes=notes)


def _settings(
    seed: int | None, temperature: float | None, strength: float, schedule: Schedule, sweeps: int,
) -> SamplerSettings:
    try:
        return SamplerSettings(schedule=schedule, temperature=temperature, strength=strength,
                               sweeps=sweeps, seed=seed)
    except ValueError as e:
        raise StyleTxError(str(e)) from e


def transfer(
    src: Source,
    style: str | Style = "bach",
    *,
    seed: int | None = None,
    temperature: float | None = None,
    strength: float = SamplerSettings.strength,
    bars: str | tuple[int, int] | None = None,
    melody_track: int | str | None = None,
    schedule: Schedule = "default",
    sweeps: int = SamplerSettings.sweeps,
    keep_drums: bool = True,
    chords: str | None = None,
    reharmonize: bool = False,
    device: str = "cpu",
    threads: int | None = DEFAULT_THREADS,
) -> pretty_midi.PrettyMIDI:
    """Rewrite the accompaniment of ``src`` in ``style``, keeping the melody note for note.

    Parameters
    ----------
    src
        A MIDI path, a ``pretty_midi.PrettyMIDI`` or a ``music21`` stream.
    style
        A style name (see :func:`styletx.styles`) or a :class:`Style` from
        :func:`styletx.load_style`, which avoids reloading weights on every call.
    seed
        Same seed, input and settings → identical output. ``None`` draws one.
    temperature
        Sampling temperature (lower = safer, sparser and more repetitive); ``None``
        takes the style's own, calibrated so that its output is as dense as its data.
    strength
        0 keeps the input's accompaniment; 1 resamples it fully.
    bars
        Only these bars change, e.g. ``"5-12"`` (1-based, inclusive).
    melody_track
        The melody's part index or name; default: chosen by heuristic.
    schedule
        ``"default"`` or ``"paper"`` (Lu & Su's 25 argmax iterations, slow).
    sweeps
        Parallel sweeps of the default schedule.
    keep_drums
        Copy the input's drum tracks to the output.
    chords
        A chord chart to follow, e.g. ``"C | Am7 | Dm7 G7 | C"`` (:func:`parse_chart`);
        default: a music21 score's own chord symbols (MusicXML), else the chords
        estimated from the input.
    reharmonize
        Let the model choose the harmony instead of keeping the song's.
    device
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (used when ``style`` is a name).
    threads
        Torch CPU threads while sampling (default 1, see :data:`DEFAULT_THREADS`);
        ``None`` keeps torch's own setting.

    Returns
    -------
    pretty_midi.PrettyMIDI
        The melody (unchanged), the new accompaniment, and the drums if kept.
    """
    style_obj = style if isinstance(style, Style) else load_style(style, device=device)
    song = load_source(src)
    if chords is None and not reharmonize and _is_stream(src):
        chords = stream_chord_changes(src, song.resolution) or None  # the score's own symbols
    result = transfer_song(
        song, style_obj,
        settings=_settings(seed, temperature, strength, schedule, sweeps),
        bars=parse_bars(bars), melody_track=melody_track, keep_drums=keep_drums,
        chords=chords, reharmonize=reharmonize, threads=threads,
    )
    return result.to_pretty_midi()


def render(
    src: str | os.PathLike,
    out: str | os.PathLike,
    style: str | Style = "bach",
    *,
    seed: int | None = None,
    temperature: float | None = None,
    strength: float = SamplerSettings.strength,
    bars: str | tuple[int, int] | None = None,
    melody_track: int | str | None = None,
    schedule: Schedule = "default",
    sweeps: int = SamplerSettings.sweeps,
    keep_drums: bool = True,
    chords: str | None = None,
    reharmonize: bool = False,
    force: bool = False,
    device: str = "cpu",
    progress: Progress | None = None,
    threads: int | None = DEFAULT_THREADS,
) -> TransferResult:
    """File to file: :func:`transfer` that writes ``out`` atomically (never over ``src``)."""
    style_obj = style if isinstance(style, Style) else load_style(style, device=device)
    out_path = Path(out)
    if out_path.exists() and not force:
        raise StyleTxError(f"{out_path} exists; use --force to replace it")
    result = transfer_song(
        read_midi(src), style_obj,
        settings=_settings(seed, temperature, strength, schedule, sweeps),
        bars=parse_bars(bars), melody_track=melody_track, keep_drums=keep_drums,
        chords=chords, reharmonize=reharmonize, progress=progress, threads=threads,
    )
    write_midi(out_path, result.song, result.tracks, force=force, protect=[src])
    return result
