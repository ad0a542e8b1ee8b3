"""Previews of a result: a WAV to listen to and a piano-roll PNG to look at.

Both are written through :func:`styletx.io.files.atomic_write`, so an
interrupted preview never leaves a half-written file and never replaces an input.

* WAV: synthesised with ``tinysoundfont`` (an optional dependency, installed with
  ``pip install --no-deps tinysoundfont``) and the General MIDI soundfont that
  ships inside ``pretty_midi`` (``TimGM6mb.sf2``), 44.1 kHz stereo 16-bit. Notes,
  programs and the tempo map are taken from pretty_midi and played event by
  event, so the audio lines up with the MIDI to the sample, and plays the velocities, timing
  offsets and lengths of a style's feel (:mod:`styletx.music.performance`) as written.
* PNG: a matplotlib piano roll with bar lines from the time-signature map, at a
  fixed size (:data:`PLOT_WIDTH_PX` wide, :data:`PLOT_ROW_HEIGHT_PX` per file).

MusicXML, to edit, is written from the transfer itself by :mod:`styletx.score.write`.
"""

from __future__ import annotations

import io
import os
import wave
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pretty_midi

from styletx.errors import StyleTxError
from styletx.io.files import StrPath, atomic_write
from styletx.io.writer import allocate_channels
from styletx.music.parts import select_parts
from styletx.music.song import Note, Song, Track
from styletx.music.timing import bar_number, bar_starts
from styletx.score.read import read_song

SAMPLE_RATE = 44_100
RELEASE_SECONDS = 1.0
"""Audio kept after the last note-off, so the final notes can die away."""
MAX_WAV_SECONDS = 20 * 60.0
"""Longest WAV preview (about 200 MiB); longer pieces get an error, not a huge file."""
GAIN_DB = -6.0
"""Synth gain: leaves headroom for thick chords before 16-bit clipping."""

PLOT_WIDTH_PX = 1600
PLOT_ROW_HEIGHT_PX = 400
PLOT_DPI = 100
MELODY_COLOUR = "#d62728"
ACCOMP_COLOUR = "#1f77b4"

MidiInput = StrPath | bytes | pretty_midi.PrettyMIDI


def soundfont_path() -> Path:
    """The General MIDI soundfont bundled with pretty_midi."""
    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


def _pretty(midi: MidiInput) -> pretty_midi.PrettyMIDI:
    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    try:
        if isinstance(midi, bytes):
            return pretty_midi.PrettyMIDI(io.BytesIO(midi))
        return pretty_midi.PrettyMIDI(os.fspath(midi))
    except Exception as e:  # pretty_midi/mido raise many types on bad data
        raise StyleTxError(f"cannot read the MIDI for a preview: {' '.join(str(e).split())}") from e


# --------------------------------------------------------------------------- WAV


def synthesize(midi: MidiInput) -> np.ndarray:
    """Render MIDI to ``int16 [samples, 2]`` audio at :data:`SAMPLE_RATE`.

    Raises
    ------
    StyleTxError
        tinysoundfont is not installed, or the piece is longer than
        :data:`MAX_WAV_SECONDS`.
    """
    try:
        import tinysoundfont
    except ImportError as e:
        raise StyleTxError(
            "WAV previews need tinysoundfont: pip install --no-deps tinysoundfont") from e
    pm = _pretty(midi)
    end = pm.get_end_time()
    if end > MAX_WAV_SECONDS:
        raise StyleTxError(f"the piece is {end / 60:.0f} minutes long; WAV previews stop at "
                           f"{MAX_WAV_SECONDS / 60:.0f}")
    synth = tinysoundfont.Synth(gain=GAIN_DB, samplerate=SAMPLE_RATE)
    sfid = synth.sfload(str(soundfont_path()))
    # (sample, order, action): note-offs (0) before program changes (1) before note-ons (2).
    events: list[tuple[int, int, int, int, int, int]] = []
    channels = allocate_channels([(inst.is_drum, None) for inst in pm.instruments])
    for i, (inst, chan) in enumerate(zip(pm.instruments, channels, strict=True)):
        events.append((0, 1, i, chan, inst.program, int(inst.is_drum)))
        for n in inst.notes:
            start = round(n.start * SAMPLE_RATE)
            events.append((start, 2, i, chan, n.pitch, n.velocity))
            events.append((max(round(n.end * SAMPLE_RATE), start), 0, i, chan, n.pitch, 0))
    events.sort()
    total = round(end * SAMPLE_RATE) + round(RELEASE_SECONDS * SAMPLE_RATE)
    audio = np.zeros((total, 2), dtype=np.int16)
    pos = 0

    def advance(to: int) -> None:
        nonlocal pos
        if to > pos:
            block = np.frombuffer(synth.generate_simple(to - pos), dtype=np.float32)
            audio[pos:to] = np.clip(block.reshape(-1, 2) * 32767.0, -32768, 32767)
            pos = to

    for sample, order, _, chan, a, b in events:
        advance(min(sample, total))
        if order == 1:
            synth.program_select(chan, sfid, 128 if b else 0, 0 if b else a, is_drums=bool(b))
        elif order == 2:
            synth.noteon(chan, a, b)
        else:
            synth.noteoff(chan, a)
    advance(total)
    return audio


def write_wav(
    midi: MidiInput, path: StrPath, *, force: bool = False, protect: Iterable[StrPath] = ()
) -> Path:
    """Synthesise ``midi`` (a path, MIDI bytes or a PrettyMIDI) to a WAV file, atomically."""
    audio = synthesize(midi)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(audio.astype("<i2").tobytes())
    return atomic_write(path, buf.getvalue(), force=force, protect=protect)


# --------------------------------------------------------------------------- piano roll


def _melody_of(song: Song, melody_track: int | str | None, like: Sequence[Note] | None) -> Track:
    """The melody: the part asked for, else a part holding exactly ``like``, else the heuristic."""
    if melody_track is None and like is not None:
        for t in song.tracks:
            if t.notes == list(like):
                return t
    return select_parts(song, melody_track).melody


def velocity_shades(colour: str, notes: Sequence[Note]) -> np.ndarray:
    """``[N, 4]`` RGBA: ``colour`` with each note's opacity rising with its velocity, so
    accents and a crescendo show (velocity 1 is nearly clear, 127 solid)."""
    from matplotlib.colors import to_rgba

    shades = np.tile(to_rgba(colour), (len(notes), 1))
    shades[:, 3] = 0.15 + 0.85 * np.array([n.velocity for n in notes]) / 127
    return shades


def _draw(ax: object, song: Song, melody: Track, title: str) -> None:
    """One piano roll: x in bars (printed numbers), y in MIDI pitch."""
    starts = bar_starts(song)
    first = bar_number(song, starts, 0)
    edges = np.asarray([*starts, starts[-1] + max(1, song.end_tick - starts[-1])], dtype=float)
    bars = np.arange(len(edges), dtype=float) + first

    def x(ticks: np.ndarray) -> np.ndarray:
        return np.interp(ticks, edges, bars)

    groups = [(t.notes, MELODY_COLOUR if t is melody else ACCOMP_COLOUR)
              for t in song.tracks if not t.is_drum]
    if all(t is not melody for t in song.tracks):  # a skyline split
        acc = set(melody.notes)
        groups = [([n for t in song.tracks if not t.is_drum for n in t.notes if n not in acc],
                   ACCOMP_COLOUR), (melody.notes, MELODY_COLOUR)]
    groups.sort(key=lambda g: g[1] == MELODY_COLOUR)  # melody drawn last, on top
    pitches: list[int] = []
    for notes, colour in groups:
        if not notes:
            continue
        start = x(np.array([n.start for n in notes], dtype=float))
        end = x(np.array([max(n.end, n.start + 1) for n in notes], dtype=float))
        pitch = np.array([n.pitch for n in notes])
        ax.barh(pitch, end - start, left=start, height=0.8, color=velocity_shades(colour, notes),
                linewidth=0)
        pitches.extend(pitch.tolist())
    for b in bars[:-1]:
        ax.axvline(b, color="0.85", linewidth=0.6, zorder=0)
    lo, hi = (min(pitches), max(pitches)) if pitches else (48, 72)
    ax.set_ylim(lo - 2, hi + 2)
    ax.set_xlim(bars[0], bars[-1])
    ax.set_xlabel("bar")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=10)


def plot_piano_roll(
    files: Sequence[StrPath],
    path: StrPath,
    *,
    melody_track: int | str | None = None,
    force: bool = False,
) -> Path:
    """Draw one piano roll per file (input above output), melody in red, the rest in blue,
    each note shaded by its velocity (:func:`velocity_shades`).

    The PNG is :data:`PLOT_WIDTH_PX` wide and ``len(files)`` times
    :data:`PLOT_ROW_HEIGHT_PX` high whatever the music, so it can be laid out without looking at it.
    Drums are left out. In a second file, the part holding exactly the first
    file's melody notes is the melody (styletx keeps it note for note).
    """
    # A bare Figure draws with Agg by itself: no pyplot, so a notebook's backend is left alone.
    from matplotlib.figure import Figure

    if not files:
        raise StyleTxError("plot needs at least one MIDI or MusicXML file")
    songs = [read_song(f) for f in files]
    rows = len(songs)
    size = (PLOT_WIDTH_PX / PLOT_DPI, rows * PLOT_ROW_HEIGHT_PX / PLOT_DPI)
    fig = Figure(dpi=PLOT_DPI, figsize=size)
    axes = fig.subplots(rows, 1, squeeze=False)
    first_melody: list[Note] | None = None
    for ax, song, f in zip(axes[:, 0], songs, files, strict=True):
        melody = _melody_of(song, melody_track if first_melody is None else None, first_melody)
        first_melody = first_melody if first_melody is not None else melody.notes
        _draw(ax, song, melody, Path(f).name)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PLOT_DPI)
    return atomic_write(path, buf.getvalue(), force=force, protect=files)
