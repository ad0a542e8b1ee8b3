"""The Python API: ``styletx.transfer`` and the file-to-file ``render``.

The flow for one piece: read the MIDI (:mod:`styletx.io.reader`), choose the
melody, put everything on the style's grid (:mod:`styletx.music.grid`), fold the
accompaniment into the model's pitch window, resample it (:mod:`styletx.model.sampler`),
voice the result as the style's instruments (:mod:`styletx.music.arrange`), and write
it beside the *original* melody notes, tempo, meter and key maps.

There is one transfer path: :func:`transfer_song` with a :class:`TransferOptions`.
:func:`transfer` (any source), :func:`render` (file to file), ``styletx render`` and
``styletx batch`` only build the options and call it, and all of them get a
:class:`TransferResult`, whose :meth:`~TransferResult.write` writes exact ticks.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pretty_midi

from styletx.diagnostics import LOGGER, collect_warnings, quantization_note
from styletx.errors import StyleTxError
from styletx.io.files import check_target
from styletx.io.reader import ReadWarnings, read_midi
from styletx.io.writer import midi_bytes, write_midi
from styletx.model.density import DENSITY_RANGE, DensityFit, fit_density
from styletx.model.lockstep import resample_many
from styletx.model.settings import DEFAULT_SETTINGS, Progress, SamplerSettings
from styletx.model.start import guide_melody, starting_roll
from styletx.model.threads import torch_threads
from styletx.music.arrange import confine, fold_into_range, unfold, voice_parts
from styletx.music.charts import ChordChanges, changes_track, chord_chart, parse_chart, track_changes
from styletx.music.chords import harmonize
from styletx.music.critic import Verdict, candidate_seed, judge
from styletx.music.encoding import ONSET
from styletx.music.grid import Grid, roll_to_notes
from styletx.music.limits import clip_tracks, cut_stuck_notes, meter_warning
from styletx.music.parts import select_parts
from styletx.music.performance import Feel, perform
from styletx.music.song import Note, Parts, Song, Track
from styletx.score.read import MUSICXML_SUFFIXES, read_song, song_from_stream
from styletx.styles import DEFAULT_STYLE, Style, load_style

Source = str | os.PathLike | pretty_midi.PrettyMIDI | Any  # Any: a music21 stream

MAX_BEATS = 6_000
"""Longest grid a transfer accepts, in beats whatever the style's steps per beat: 1,500
bars of 4/4, 50 minutes at 120 bpm. Sampling time grows linearly with frames (silent ones
too), so a file that passes the reader's limits with one note after a long silence stops here."""


DEFAULT_THREADS = 1
"""Torch CPU threads while sampling. The sampler makes thousands of tiny tensor calls;
waking a thread pool for each made it 30-40x slower on a loaded 2-core machine, so every
entry point (API, CLI, batch) samples on one thread unless told otherwise."""


@dataclass(frozen=True)
class TransferOptions:
    """Everything a transfer takes besides the input and the style: what the CLI maps its flags onto.

    :func:`transfer`, :func:`render`, ``styletx render`` and ``styletx batch`` all build
    one of these and hand it to :func:`transfer_song`, so a knob means the same on every
    path. Change fields with :meth:`replace`, which also reaches into ``sampler``.
    """

    sampler: SamplerSettings = DEFAULT_SETTINGS
    """Seed, temperature, strength, sweeps, schedule, ... (:class:`SamplerSettings`)."""
    bars: str | tuple[int, int] | None = None
    """Only these bars change, e.g. ``"5-12"`` (1-based, inclusive; :func:`parse_bars`)."""
    melody_track: int | str | None = None
    """The melody's part index or name (or ``"skyline"``); ``None``: chosen by heuristic."""
    keep_drums: bool = True
    """Copy the input's drum tracks to the output."""
    chords: str | ChordChanges | None = None
    """A chord chart to follow (:func:`parse_chart`) or ``(tick, chord)`` changes; ``None``:
    a score's own chord symbols (:attr:`Song.chord_symbols`), else the chords estimated
    from the input."""
    reharmonize: bool = False
    """Let the model choose the harmony instead of keeping the song's."""
    threads: int | None = DEFAULT_THREADS
    """Torch CPU threads while sampling (:data:`DEFAULT_THREADS`); ``None`` keeps torch's own."""
    candidates: int = 1
    """Draw this many accompaniments and keep the critic's best (:mod:`styletx.music.critic`,
    whose seed rule makes the result deterministic for a seed); 1: no critic."""
    # performance layer (#20)
    quantized: bool = False
    """Leave the style's feel off: one velocity per piece, every note on the grid (as before #20)."""
    balance: float | None = None
    """How far the accompaniment sits under the melody, in MIDI velocity; ``None``: the style's."""
    # controls (#20 item 5)
    density: float = 1.0
    """Onsets per beat as a multiple of the style's default output for the same piece and
    seed, :data:`DENSITY_RANGE` (a shift of the onset logits while sampling, searched per piece
    by :func:`styletx.model.density.fit_density`)."""
    pitch_range: str | tuple[int, int] | None = None
    """The accompaniment's register, MIDI ``"LOW-HIGH"`` inclusive (:func:`parse_pitch_range`);
    ``None``: the style's whole window."""
    variants: int = 1
    """Alternatives :func:`transfer_variants` draws and ranks (``render --variants``); one
    transfer (:func:`transfer_song`) draws one."""

    def __post_init__(self) -> None:
        """Refuse a bad control at once, before any file is read (the style's own limits on
        ``pitch_range`` are checked by the transfer, :func:`style_pitch_range`)."""
        lo, hi = DENSITY_RANGE
        if not lo <= self.density <= hi:
            raise StyleTxError(f"--density must be between {lo:g} and {hi:g}, not {self.density:g}")
        if self.pitch_range is not None:
            parse_pitch_range(self.pitch_range)
        if self.variants < 1:
            raise StyleTxError(f"--variants must be at least 1, not {self.variants}")

    def replace(self, **changes: Any) -> TransferOptions:
        """A copy with ``changes``, where sampler fields (``seed=``, ``sweeps=``, ...) go to ``sampler``.

        Raises
        ------
        StyleTxError
            A value the sampler refuses (e.g. ``strength=2``).
        TypeError
            A name that is neither a field here nor one of :class:`SamplerSettings`.
        """
        names = {f.name for f in dataclasses.fields(SamplerSettings)}
        sampler = {k: changes.pop(k) for k in list(changes) if k in names}
        try:
            return dataclasses.replace(
                self, sampler=dataclasses.replace(self.sampler, **sampler), **changes)
        except ValueError as e:
            raise StyleTxError(str(e)) from e


class PrettyMidiLossWarning(UserWarning):
    """:meth:`TransferResult.to_pretty_midi` could not hold everything the transfer wrote."""


@dataclass(frozen=True)
class TransferResult:
    """One transfer's output and what happened on the way.

    ``tracks`` (melody first, then the new accompaniment, then the drums) under
    ``song``'s resolution, tempo, meter and key maps are the output, in exact ticks;
    :meth:`write` writes them. ``notes`` are informational lines for the user;
    ``warnings`` the ``styletx`` warnings logged while it ran (reading the source
    included, for :func:`transfer`), which an enclosing
    :func:`~styletx.diagnostics.collect_warnings` (the CLI's, a batch file's) also gets.
    """

    song: Song
    tracks: list[Track]
    parts: Parts
    grid: Grid
    new_accomp: np.ndarray  # [T, 128]
    seconds: float
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    score_tracks: list[Track] = field(default_factory=list)
    """The tracks on the grid, before the feel's timing (for notation); empty: ``tracks``."""

    @property
    def chart(self) -> str:
        """The chord chart the new accompaniment followed (see :func:`chord_chart`)."""
        return chord_chart(self.grid)

    def midi_bytes(self) -> bytes:
        """The output as a type-1 Standard MIDI File, tick for tick (:func:`styletx.io.writer.midi_bytes`)."""
        return midi_bytes(self.song, self.tracks)

    def write(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write the output atomically, in the format ``path``'s suffix names, and return the path.

        ``.mid``/``.midi``: the exact ticks, every melody note and event as read.
        ``.musicxml``/``.xml``/``.mxl``: a score written from the transfer's own notes,
        with the chords it followed (:func:`styletx.score.write.write_score`). ``.wav``: a preview
        synthesised with tinysoundfont (:func:`styletx.preview.write_wav`). The
        input file is never overwritten, even with ``force``.

        Raises
        ------
        StyleTxError
            ``path`` exists (without ``force``), is the input, or has another suffix.
        """
        from styletx.preview import write_wav
        from styletx.score.write import write_score

        kind = output_format(path)
        if kind == "midi":
            return write_midi(path, self.song, self.tracks, force=force)
        protect = [self.song.source] if self.song.source else []
        if kind == "musicxml":
            return write_score(self.song, self.score_tracks or self.tracks, path, melody=self.parts.melody,
                               chords=track_changes(self.grid), force=force, protect=protect)
        return write_wav(self.midi_bytes(), path, force=force, protect=protect)

    def to_pretty_midi(self) -> pretty_midi.PrettyMIDI:
        """The output as a :class:`pretty_midi.PrettyMIDI`: a convenience that can lose things.

        pretty_midi holds notes in seconds, one instrument per program, and only
        notes, pitch bends, control changes and one program per instrument. So, on
        inputs that have them, the PrettyMIDI drops zero-length notes, pairs
        overlapping same-pitch notes its own way, splits a part with program
        changes into one instrument per program, drops aftertouch, sysex and text
        events and renumbers channels, and its ``write`` adds a 4/4 time signature
        to a file that had none. Each loss that happens is named in a
        :class:`PrettyMidiLossWarning`; :meth:`write` keeps everything.
        """
        data = self.midi_bytes()
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        buf = io.BytesIO()
        pm.write(buf)
        # Both read quietly: their oddities are the input's, already reported by the transfer.
        losses = pretty_midi_losses(read_midi(data, warnings=ReadWarnings()),
                                    read_midi(buf.getvalue(), warnings=ReadWarnings()))
        if losses:
            warnings.warn(f"to_pretty_midi() loses {'; '.join(losses)}; "
                          "TransferResult.write() keeps them", PrettyMidiLossWarning, stacklevel=2)
        return pm


def output_format(path: str | os.PathLike) -> Literal["midi", "musicxml", "wav"]:
    """What :meth:`TransferResult.write` writes to ``path``, by its suffix.

    Raises
    ------
    StyleTxError
        A suffix it cannot write.
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".mid", ".midi"):
        return "midi"
    if suffix in MUSICXML_SUFFIXES:
        return "musicxml"
    if suffix == ".wav":
        return "wav"
    raise StyleTxError(f"{os.fspath(path)}: write .mid, .midi, {', '.join(MUSICXML_SUFFIXES)} or .wav")


def pretty_midi_losses(exact: Song, via: Song) -> list[str]:
    """What a round trip through pretty_midi changed, one phrase per kind of loss.

    ``exact`` is the output as written, ``via`` the same read back from the
    PrettyMIDI's own file; an empty list means nothing that styletx keeps was lost.
    """
    losses: list[str] = []
    before, after = _notes(exact), _notes(via)
    zero = sum(k for note, k in (before - after).items() if note.end == note.start)
    moved = (before - after).total() - zero
    if zero:
        losses.append(f"{zero} zero-length note(s)")
    if moved:
        losses.append(f"{moved} note(s) re-paired or re-timed (overlapping same-pitch notes)")
    if _layout(exact) != _layout(via):
        losses.append("the part layout (a part with program changes becomes one instrument "
                      "per program)")
    elif [t.events for t in exact.tracks] != [t.events for t in via.tracks]:
        losses.append("events other than notes, pitch bends and controllers, or their channels")
    for name, what in (("tempos", "the tempo map"), ("time_signatures", "the time-signature map"),
                       ("key_signatures", "the key map"), ("lyrics", "lyrics")):
        if getattr(exact, name) != getattr(via, name):
            losses.append(f"{what} ({len(getattr(exact, name))} events become "
                          f"{len(getattr(via, name))})")
    return losses


def _notes(song: Song) -> Counter[Note]:
    return Counter(n for t in song.tracks for n in t.notes)


def _layout(song: Song) -> list[tuple[str, int, bool]]:
    return [(t.name, t.program, t.is_drum) for t in song.tracks]


def _span(spec: str | tuple[int, int], what: str, use: str) -> tuple[int, int]:
    """``"A-B"`` → ``(A, B)`` and ``"A"`` → ``(A, A)``; a tuple as it is."""
    if isinstance(spec, tuple):
        return spec
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", str(spec))
    if not m:
        raise StyleTxError(f"bad {what} {spec!r}: use {use}")
    return int(m.group(1)), int(m.group(2) or m.group(1))


def parse_bars(spec: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"5-12"`` or ``(5, 12)`` → ``(5, 12)``: 1-based, inclusive; ``"7"`` is one bar."""
    if spec is None:
        return None
    first, last = _span(spec, "bar range", "FIRST-LAST, e.g. 5-12")
    if first < 1 or last < first:
        raise StyleTxError(f"bad bar range {first}-{last}: bars count from 1 and LAST >= FIRST")
    return first, last


def parse_pitch_range(spec: str | tuple[int, int]) -> tuple[int, int]:
    """``"36-83"`` or ``(36, 83)`` → ``(36, 83)``: MIDI pitches, inclusive (``render --range``,
    ``train --pitch-range``)."""
    lo, hi = _span(spec, "pitch range", "LOW-HIGH in MIDI numbers, e.g. 36-83")
    if not 0 <= lo <= hi <= 127:
        raise StyleTxError(f"bad pitch range {lo}-{hi}: MIDI numbers 0-127 with LOW <= HIGH")
    return lo, hi


CALIBRATION_SETTINGS = SamplerSettings(seed=0)
"""What :func:`measure_density_shifts` samples with by default: the default settings, seed 0."""
CALIBRATION_LADDER = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
"""The onset-logit shifts, in nats either way, at which :func:`measure_density_shifts` measures."""


def measure_density_shifts(style: Style, songs: list[tuple[Song, int | str | None]],
                           settings: SamplerSettings = CALIBRATION_SETTINGS,
                           ladder: tuple[float, ...] = CALIBRATION_LADDER) -> list[list[float]]:
    """A style's ``density_shifts`` table: ``[ratio, shift]`` pairs, ratio increasing.

    Each ``(song, melody_track)`` is transferred with ``settings`` at shift 0 and then at each
    step of ``ladder``, up and down, until the ratio (the songs' accompaniment onsets against
    those at shift 0) passes :data:`DENSITY_RANGE` by a tenth: a style whose chain pushes
    back hard needs large shifts, a pliant one small. Ratios that do not move on from the
    last kept one are dropped, so :func:`styletx.model.density.expected_shift` can invert the table.
    """
    def count(shift: float) -> int:
        shifted = dataclasses.replace(settings, onset_shift=shift)
        return sum(int((transfer_song(song, style, TransferOptions(shifted, melody_track=melody))
                        .new_accomp == ONSET).sum()) for song, melody in songs)

    base = max(count(0.0), 1)
    table = [[1.0, 0.0]]
    lo, hi = DENSITY_RANGE
    for sign, stop in ((1, 1.1 * hi), (-1, lo / 1.1)):
        for step in ladder:
            ratio = round(count(sign * step) / base, 3)
            if sign * (ratio - table[-1 if sign > 0 else 0][0]) > 0:
                table.insert(len(table) if sign > 0 else 0, [ratio, sign * step])
            if sign * (ratio - stop) >= 0:
                break
    return table


def style_pitch_range(options: TransferOptions, style: Style) -> tuple[int, int] | None:
    """``options.pitch_range`` checked against what ``style`` can play: inside its model's
    window and at least an octave wide (so every chord has all its pitch classes)."""
    if options.pitch_range is None:
        return None
    lo, hi = parse_pitch_range(options.pitch_range)
    cfg = style.model.cfg
    if lo < cfg.pitch_lo or hi > cfg.pitch_hi - 1:
        raise StyleTxError(f"range {lo}-{hi} is outside what style {style.name!r} plays "
                           f"({cfg.pitch_lo}-{cfg.pitch_hi - 1})")
    if hi - lo < 11:
        raise StyleTxError(f"range {lo}-{hi} is narrower than an octave (12 pitches at least)")
    return lo, hi


def load_source(src: Source) -> Song:
    """A MIDI or score path (or its bytes), a PrettyMIDI or a music21 stream, as a :class:`Song`.

    A stream is read by the score reader (:func:`styletx.score.read.song_from_stream`), not
    through music21's MIDI rendering, which plays its chord symbols as notes."""
    if isinstance(src, str | os.PathLike | bytes):
        return read_song(src)
    if isinstance(src, pretty_midi.PrettyMIDI):
        return read_midi(src)
    if _is_stream(src):
        return song_from_stream(src)
    raise StyleTxError(f"cannot read a {type(src).__name__}: give a path, PrettyMIDI or music21 stream")


def _is_stream(src: Any) -> bool:
    """A music21 stream (duck-typed, so music21 is imported only when one is given)."""
    return hasattr(src, "write") and hasattr(src, "flatten")


def _velocity(parts: Parts) -> int:
    acc = [n.velocity for t in parts.accompaniment for n in t.notes]
    if acc:
        return round(np.mean(acc))
    return round(0.8 * np.mean([n.velocity for n in parts.melody.notes]))


def transfer_song(
    song: Song,
    style: Style,
    options: TransferOptions | None = None,
    *,
    progress: Progress | None = None,
    variant: int = 0,
) -> TransferResult:
    """Resample a song's accompaniment in ``style``: the one transfer every entry point runs.

    ``options`` defaults to :class:`TransferOptions`' defaults.

    The chord track the model follows is, in order of precedence: ``options.chords``
    (a chart, see :func:`parse_chart`, or ``(tick, chord)`` changes); none at all with
    ``options.reharmonize`` (the model chooses the harmony); a score's own chord
    symbols (:attr:`~styletx.music.song.Song.chord_symbols`); the chords estimated from
    the input's full texture; or, for a bare melody, the style's chord model's
    harmonisation (:func:`styletx.music.chords.harmonize`). A meter outside the style's
    trained meters (:func:`~styletx.music.limits.meter_warning`) and notes moved or dropped
    by putting the music on the grid each give one warning on the ``styletx`` logger;
    the result's ``warnings`` lists them.

    ``variant`` numbers the alternatives of :func:`transfer_variants`: it only chooses the
    candidates' seeds (:func:`styletx.music.critic.candidate_seed`); 0 is the plain transfer.
    """
    with collect_warnings(forward=True) as logged:
        result = _transfer(song, style, options or TransferOptions(), progress, variant)
    return dataclasses.replace(result, warnings=logged.messages)


def _transfer(song: Song, style: Style, options: TransferOptions, progress: Progress | None,
              variant: int = 0) -> TransferResult:
    t0 = time.perf_counter()
    settings, bars, chords = options.sampler, parse_bars(options.bars), options.chords
    register = style_pitch_range(options, style)
    settings = dataclasses.replace(settings, pitches=register or settings.pitches)
    meter = meter_warning(song, style.info.meters, style.name)
    if meter:
        LOGGER.warning("%s: %s", song.source or "input", meter)
    parts = select_parts(song, options.melody_track)
    parts, end = cut_stuck_notes(song, parts)  # the piece ends with its music (styletx.music.limits)
    grid = style.grid(song, parts)
    if grid.n_frames > MAX_BEATS * grid.steps_per_beat:
        raise StyleTxError(
            f"piece too long for style transfer: {grid.n_bars} bars, {grid.n_frames // grid.steps_per_beat} "
            f"beats (limit {MAX_BEATS}); cut it into sections")
    cfg = style.model.cfg
    rng = np.random.default_rng(settings.seed_streams().start)
    melody_only = not fold_into_range(grid.accomp, cfg.pitch_lo, cfg.pitch_hi).any()
    notes: list[str] = []
    if options.melody_track is None and parts.melody.index < 0:  # a skyline nobody asked for
        notes.append(f"no part carries the lead line alone: the melody is a skyline ({parts.reason}); "
                     "give --melody-track to choose a part")
    # a chart is the player's instruction: the chords given, or the score's own symbols
    charted = chords is not None or (bool(song.chord_symbols) and not options.reharmonize)
    settings = _with_style_defaults(settings, style, charted)
    if melody_only:
        settings = dataclasses.replace(settings, strength=1.0)
        if song.chord_symbols and chords is None and not options.reharmonize:
            notes.append("no accompaniment in the input: writing one from scratch")
        else:
            notes.append("no accompaniment in the input: harmonising the melody from scratch")
            grid.chords = harmonize(grid.melody, grid.meta(), grid.steps_per_beat, style.chord_model)
    if isinstance(chords, str):
        grid.chords = parse_chart(chords, grid)
    elif chords is not None:
        grid.chords = changes_track(chords, grid)
    elif options.reharmonize:
        grid.chords = np.zeros_like(grid.chords)
    elif song.chord_symbols:  # a score's own chart
        grid.chords = changes_track([(c.tick, c.chord) for c in song.chord_symbols], grid)
        notes.append(f"following the score's {len(song.chord_symbols)} chord symbols")
    start = starting_roll(grid, cfg.pitch_lo, cfg.pitch_hi, rng, style.info.start_voicing)
    if register is not None:
        start = confine(start, cfg.pitch_lo, *register)
    update = np.ones(grid.n_frames, dtype=bool)
    if bars is not None:
        if bars[0] > grid.n_bars:
            raise StyleTxError(f"bar range {bars[0]}-{bars[1]} starts after the last bar ({grid.n_bars})")
        update = grid.bar_mask(*bars)
    with torch_threads(options.threads):
        fitted = None
        if options.density != 1.0:
            fitted = _fit_density(style, grid, start, update, settings, options.density, variant)
            notes.append(fitted.note)
            settings = dataclasses.replace(settings, onset_shift=settings.onset_shift + fitted.shift)
        if fitted is not None and options.candidates == 1:
            window = fitted.window  # the search's own draw at that shift
        else:
            window = _best_of(style, grid, start, update, settings, options.candidates, progress, variant)
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
                kept.append(dataclasses.replace(track, notes=outside))
    voiced = voice_parts(generated, style.info.instrumentation, style.info.bass_max_pitch)
    scored, voiced = _performed(voiced, grid, parts, style, options)
    drums = parts.drums if options.keep_drums else []
    tracks = clip_tracks([parts.melody, *kept, *voiced, *drums], end, keep=[parts.melody])
    score_tracks = clip_tracks([parts.melody, *kept, *scored, *drums], end, keep=[parts.melody])
    quantized = quantization_note(grid.report)
    if quantized:
        LOGGER.warning("%s: %s", song.source or "input", quantized)
    return TransferResult(
        song=song, tracks=tracks, parts=parts, grid=grid, new_accomp=new_roll,
        seconds=time.perf_counter() - t0, notes=notes, score_tracks=score_tracks,
    )


def _performed(voiced: list[Track], grid: Grid, parts: Parts, style: Style, options: TransferOptions,
               ) -> tuple[list[Track], list[Track]]:
    """The new tracks as notated and as played, through the style's feel
    (:func:`styletx.music.performance.perform`); unchanged with ``quantized``, or for a style
    without a feel unless a ``balance`` is asked (then even dynamics under the melody)."""
    feel = style.feel
    if feel is None and options.balance is not None:
        feel = Feel.even(grid.steps_per_beat)
    if options.quantized or feel is None:
        return voiced, voiced
    rng = np.random.default_rng(options.sampler.seed_streams().feel)
    return perform(voiced, grid, parts.melody, feel, rng, bass_max_pitch=style.info.bass_max_pitch,
                   balance=options.balance)


def _best_of(
    style: Style, grid: Any, start: np.ndarray, update: np.ndarray, settings: SamplerSettings,
    candidates: int, progress: Progress | None, variant: int = 0,
) -> np.ndarray:
    """The sampled window: one draw, or the critic's best of ``candidates`` draws (seeds by
    :func:`styletx.music.critic.candidate_seed` for ``variant``), drawn in lockstep as one
    batch (:func:`styletx.model.lockstep.resample_many`)."""
    if candidates < 1:
        raise StyleTxError(f"--candidates must be at least 1, not {candidates}")
    cfg = style.model.cfg
    guide, meta = guide_melody(grid, 2 * grid.steps_per_beat), grid.meta(cfg.max_bar_steps)
    drawn = resample_many(
        style.model, guide, start, meta, update,
        [dataclasses.replace(settings, seed=candidate_seed(settings.seed, k, variant))
         for k in range(candidates)],
        progress,
    )
    if candidates == 1:
        return drawn[0]
    scores = [judge(unfold(d, cfg.pitch_lo), grid.melody, grid.chords, grid.bar_index, grid.bar_step).score
              for d in drawn]
    return drawn[int(np.argmax(scores))]


@dataclass(frozen=True)
class Variant:
    """One alternative of :func:`transfer_variants`: its rank (1: the critic's best), its
    transfer and the critic's verdict on it (:func:`styletx.music.critic.judge`)."""

    rank: int
    result: TransferResult
    verdict: Verdict

    def line(self) -> str:
        """Its scores, in one line."""
        v = self.verdict
        return (f"#{self.rank}: score {v.score:.3f} (fit {v.fit:.3f}, clash {v.clash:.3f}, "
                f"groove {v.groove:.3f})")


def transfer_variants(song: Song, style: Style, options: TransferOptions, *,
                      progress: Progress | None = None) -> list[Variant]:
    """``options.variants`` alternatives of one transfer, ranked by the critic, best first.

    Variant ``k`` is :func:`transfer_song` with ``variant=k``: the best of
    ``options.candidates`` draws under variant ``k``'s seeds
    (:func:`styletx.music.critic.candidate_seed`), so variant 0 is the plain transfer and
    a fixed seed gives the same variants, in the same order, every time. Ties keep the
    variants' order.
    """
    n = options.variants
    scored = []
    for k in range(n):
        step = None if progress is None else (lambda d, t, k=k: progress(k * t + d, n * t))
        res = transfer_song(song, style, options, progress=step, variant=k)
        g = res.grid
        scored.append((judge(res.new_accomp, g.melody, g.chords, g.bar_index, g.bar_step), k, res))
    scored.sort(key=lambda s: (-s[0].score, s[1]))
    return [Variant(rank, res, verdict) for rank, (verdict, _, res) in enumerate(scored, 1)]


def variant_paths(out: str | os.PathLike, n: int) -> list[Path]:
    """Where ``n`` variants of ``out`` go: ``out`` itself for one, else ``out_1`` … ``out_n``
    (same suffix), ``out_1`` the critic's best."""
    out = Path(out)
    if n == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{k}{out.suffix}") for k in range(1, n + 1)]


def _fit_density(style: Style, grid: Grid, start: np.ndarray, update: np.ndarray,
                 settings: SamplerSettings, density: float, variant: int) -> DensityFit:
    """The onset shift that makes this piece, with this seed, ``density`` times as busy as its
    default (:func:`styletx.model.density.fit_density`), and the draw it gave. Its stream ``k``
    is candidate ``k``'s (:func:`styletx.music.critic.candidate_seed`), 0 the default's."""
    def draw(shift: float, stream: int) -> np.ndarray:
        shifted = dataclasses.replace(settings, onset_shift=settings.onset_shift + shift,
                                      seed=candidate_seed(settings.seed, stream, variant))
        return _best_of(style, grid, start, update, shifted, 1, None)

    return fit_density(draw, density, style.info.density_shifts)


def _with_style_defaults(settings: SamplerSettings, style: Style, charted: bool) -> SamplerSettings:
    """Fill in what the caller left to the style (``None``) from its ``style.json``.

    With ``charted`` (the chords are given, not estimated) the prior is the style's
    ``chart_prior`` where it has one: a chart is followed as an instruction.
    """
    info = style.info
    prior = info.chart_prior if charted and info.chart_prior is not None else info.prior
    return dataclasses.replace(
        settings,
        temperature=info.temperature if settings.temperature is None else settings.temperature,
        prior=prior if settings.prior is None else settings.prior,
        voice_leading_tries=(info.voice_leading_tries if settings.voice_leading_tries is None
                             else settings.voice_leading_tries),
    )


def transfer(
    src: Source,
    style: str | Style = DEFAULT_STYLE,
    options: TransferOptions | None = None,
    *,
    device: str = "cpu",
    progress: Progress | None = None,
    **changes: Any,
) -> TransferResult:
    """Rewrite the accompaniment of ``src`` in ``style``, keeping the melody note for note.

    Parameters
    ----------
    src
        A MIDI or MusicXML/MXL path, a ``pretty_midi.PrettyMIDI`` or a ``music21``
        stream; a score's own chord symbols are the chords followed unless ``chords``
        or ``reharmonize``.
    style
        A style name (see :func:`styletx.styles`) or a :class:`Style` from
        :func:`styletx.load_style`, which avoids reloading weights on every call.
    options
        The settings (:class:`TransferOptions`); default: its defaults.
    device
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (used when ``style`` is a name).
    progress
        Called with ``(done, total)`` as the sampler goes.
    **changes
        Fields of :class:`TransferOptions` or of its :class:`SamplerSettings` that
        override ``options``: ``seed`` (same seed, input and settings give identical
        output; ``None`` draws one), ``temperature`` (``None``: the style's own),
        ``strength`` (the share of the accompaniment's beats redrawn, chosen at random:
        0 keeps it all, 1 redraws it all), ``sweeps``,
        ``schedule`` (``"paper"``: Lu & Su's 25 argmax iterations), ``bars`` (e.g.
        ``"5-12"``), ``melody_track``, ``keep_drums``, ``chords`` (e.g.
        ``"C | Am7 | Dm7 G7 | C"``), ``reharmonize``, ``threads``, ``candidates``, and the
        controls ``density`` (0.5-2) and ``pitch_range`` (``"40-72"``); ``variants`` is
        :func:`transfer_variants`'; ``quantized`` (the style's feel off: one velocity, on the
        grid), ``balance`` (the accompaniment's gap under the melody, in MIDI velocity).

    Returns
    -------
    TransferResult
        The melody (unchanged), the new accompaniment and the drums if kept, in exact
        ticks: ``.write("out.mid")`` writes them; ``.to_pretty_midi()`` converts them,
        with a warning naming whatever pretty_midi cannot hold.
    """
    options = (options or TransferOptions()).replace(**changes)
    style_obj, song, read = _read(src, style, device)
    result = transfer_song(song, style_obj, options, progress=progress)
    return dataclasses.replace(result, warnings=[*read, *result.warnings])


def _read(src: Source, style: str | Style, device: str) -> tuple[Style, Song, list[str]]:
    """The style (loaded if named), the source as a song, and the warnings reading it gave."""
    style_obj = style if isinstance(style, Style) else load_style(style, device=device)
    with collect_warnings(forward=True) as read:
        song = load_source(src)
    return style_obj, song, read.messages


def render_variants(src: str | os.PathLike, out: str | os.PathLike, style: str | Style = DEFAULT_STYLE,
                    options: TransferOptions | None = None, *, force: bool = False, device: str = "cpu",
                    progress: Progress | None = None, **changes: Any) -> list[tuple[Path, Variant]]:
    """File to files: :func:`transfer_variants`, each written atomically to its
    :func:`variant_paths` path (``out_1`` the best); with ``variants=1``, :func:`render`'s one file.

    Every target is checked before sampling, as :func:`render` checks its one.
    """
    options = (options or TransferOptions()).replace(**changes)
    paths = variant_paths(out, options.variants)
    output_format(out)
    for path in paths:
        check_target(path, force=force, protect=[src])
    style_obj, song, read = _read(src, style, device)
    variants = transfer_variants(song, style_obj, options, progress=progress)
    written = []
    for path, v in zip(paths, variants, strict=True):
        v.result.write(path, force=force)
        result = dataclasses.replace(v.result, warnings=[*read, *v.result.warnings])
        written.append((path, dataclasses.replace(v, result=result)))
    return written


def render(
    src: str | os.PathLike,
    out: str | os.PathLike,
    style: str | Style = DEFAULT_STYLE,
    options: TransferOptions | None = None,
    *,
    force: bool = False,
    device: str = "cpu",
    progress: Progress | None = None,
    **changes: Any,
) -> TransferResult:
    """File to file: :func:`transfer`, then :meth:`TransferResult.write` to ``out``.

    ``out`` is checked before sampling (a suffix :func:`output_format` knows; it must
    not exist, unless ``force``, and is never ``src``), so a refused target costs no time.
    It writes one transfer: ``variants`` is :func:`render_variants`'.
    """
    output_format(out)
    check_target(out, force=force, protect=[src])
    result = transfer(src, style, options, device=device, progress=progress, **changes)
    result.write(out, force=force)
    return result
