"""Training corpora as grids: Bach chorales from music21, other styles from MIDI folders.

A corpus is a list of :class:`PieceArrays`, the grid arrays of each piece with
its source id and split. Building one is slow (parsing), so the arrays are
cached as one ``.npz`` per style and grid resolution under
:func:`styletx.paths.cache_dir`; a second build loads that file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from styletx.errors import StyleTxError
from styletx.model.config import ModelConfig
from styletx.music.chords import Chord, chart_track
from styletx.music.encoding import MAX_BAR_STEPS
from styletx.music.grid import Grid, build_grid
from styletx.music.song import KeySignature, Note, Parts, Song, TimeSignature, Track
from styletx.paths import cache_dir
from styletx.training.recipes import recipe
from styletx.training.splits import Split, split_of

CHORALE_RESOLUTION = 480
CACHE_VERSION = 2  # 2: metadata carries the chord track
CACHE_BAR_STEPS = MAX_BAR_STEPS
"""The bar-step limit of the metadata in a cache file named without one (``grids-r4-v2.npz``):
``Grid.meta``'s default, and every shipped model's ``max_bar_steps``. Those files hold exactly
what a model with this limit reads; a model with another limit gets its own file
(``grids-r4-b128-v2.npz``), since clipped bar steps cannot be unclipped."""


@dataclass
class PieceArrays:
    """The grid arrays of one training piece."""

    piece_id: str
    source_id: str
    split: Split
    melody: np.ndarray  # int16 [T]
    accomp: np.ndarray  # uint8 [T, 128]
    meta: np.ndarray  # int64 [T, N_META] (:meth:`styletx.music.grid.Grid.meta`), chord track included

    @property
    def n_frames(self) -> int:
        return int(self.melody.shape[0])


def piece_from_grid(
    piece_id: str, source_id: str, grid: Grid, max_bar_steps: int = CACHE_BAR_STEPS,
    split: Split | None = None,
) -> PieceArrays:
    """Wrap a grid as a piece for the model: the one place its arrays get their dtypes.

    ``max_bar_steps`` is the model's (:attr:`ModelConfig.max_bar_steps`): longer bars'
    steps are clipped to it in the metadata, as the model reads them. The split is
    ``split``, else the one the source id's rule gives (:func:`split_of`).
    """
    return PieceArrays(
        piece_id=piece_id,
        source_id=source_id,
        split=split_of(source_id) if split is None else split,
        melody=grid.melody.astype(np.int16),
        accomp=grid.accomp.astype(np.uint8),
        meta=grid.meta(max_bar_steps),
    )


# --------------------------------------------------------------------------- Bach


def chorale_ids(limit: int | None = None) -> list[str]:
    """music21 corpus ids of the four-part chorales (``"bach/bwv269"``, ...)."""
    from music21 import corpus

    ids = [str(x) for x in corpus.chorales.Iterator(returnType="filename")]
    return ids[:limit] if limit else ids


def chorale_song(chorale_id: str) -> tuple[Song, Parts]:
    """Parse one chorale into a tick-based song: soprano = melody, A/T/B = accompaniment."""
    from music21 import corpus

    score = corpus.parse(chorale_id)
    parts = list(score.parts)
    if len(parts) != 4:
        raise StyleTxError(f"{chorale_id}: {len(parts)} parts, expected 4")
    res = CHORALE_RESOLUTION
    tracks = []
    for index, part in enumerate(parts):
        notes = []
        # stripTies joins tied pieces, so a tie becomes one held note, not a re-strike.
        for n in part.stripTies().flatten().notes:
            if n.isChord or n.duration.quarterLength <= 0:
                continue
            start = round(float(n.offset) * res)
            end = start + round(float(n.duration.quarterLength) * res)
            notes.append(Note(start=start, end=end, pitch=n.pitch.midi, velocity=80))
        name = part.partName or ["Soprano", "Alto", "Tenor", "Bass"][index]
        tracks.append(Track(name=name, program=52, is_drum=False, notes=sorted(notes), index=index))

    sig = parts[0].getTimeSignatures()[0] if parts[0].getTimeSignatures() else None
    num, den = (sig.numerator, sig.denominator) if sig else (4, 4)
    measures = parts[0].getElementsByClass("Measure")
    time_sigs = [TimeSignature(0, num, den)]
    if measures and measures[0].paddingLeft > 0:
        pickup = round(float(measures[0].duration.quarterLength) * res)
        # A pickup is a short first bar: a time signature of its own length, then the meter.
        sixteenths = max(1, round(pickup * 4 / res))
        time_sigs = [TimeSignature(0, sixteenths, 16), TimeSignature(pickup, num, den)]
    key = score.analyze("key")
    keys = [KeySignature(0, key.tonic.pitchClass, key.mode == "minor")]
    song = Song(
        resolution=res, tracks=tracks, time_signatures=time_sigs, key_signatures=keys,
        source=chorale_id,
    )
    return song, Parts(melody=tracks[0], accompaniment=tracks[1:], drums=[], reason="soprano")


def bach_pieces(limit: int | None, grid_cfg: ModelConfig) -> Iterator[PieceArrays]:
    """Grids of the music21 chorales (chorales that fail to parse are skipped)."""
    for cid in chorale_ids(limit):
        try:
            song, parts = chorale_song(cid)
        except StyleTxError:
            continue
        yield piece_from_grid(cid, cid, build_grid(song, parts, grid_cfg.steps_per_beat),
                              grid_cfg.max_bar_steps)


# ------------------------------------------------------------------ MIDI folders


def midi_folder_pieces(folder: Path, grid_cfg: ModelConfig) -> Iterator[PieceArrays]:
    """Grids of rendered MIDI files whose melody track is named ``melody``.

    The source id of each file comes from ``manifest.json`` beside the MIDI
    folder (written by :mod:`styletx.training.mma`), so renderings of one melody share a split.
    """
    from styletx.io.reader import read_midi
    from styletx.music.parts import select_parts

    manifest_path = folder.parent / "manifest.json"
    entries: dict[str, dict] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        entries = {str(e["id"]): e for e in manifest.get("pieces", [])}
    steps_per_beat = grid_cfg.steps_per_beat
    for path in sorted(folder.glob("*.mid")):
        song = read_midi(path)
        parts = select_parts(song, melody_track="melody")
        entry = entries.get(path.stem, {})
        grid = build_grid(song, parts, steps_per_beat)
        if "chords" in entry:
            # The rendered chart is the exact harmony: no estimate needed.
            grid.chords = chart_track(
                [(round((bar * entry["bar_beats"] + beat) * steps_per_beat), Chord.parse(name))
                 for bar, beat, name in entry["chords"]],
                grid.n_frames,
            )
        yield piece_from_grid(path.stem, str(entry.get("source_id", path.stem)), grid,
                              grid_cfg.max_bar_steps)


# ------------------------------------------------------------------------ cache


def corpus_cache_path(style: str, grid_cfg: ModelConfig) -> Path:
    """The cache file of a style's grids for a model's grid: resolution and bar-step limit."""
    bars = "" if grid_cfg.max_bar_steps == CACHE_BAR_STEPS else f"-b{grid_cfg.max_bar_steps}"
    return cache_dir() / "data" / style / f"grids-r{grid_cfg.steps_per_beat}{bars}-v{CACHE_VERSION}.npz"


def save_pieces(path: Path, pieces: list[PieceArrays]) -> None:
    """Store pieces as concatenated arrays plus offsets (one compressed file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([p.n_frames for p in pieces], dtype=np.int64)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        lengths=lengths,
        melody=np.concatenate([p.melody for p in pieces]),
        accomp=np.concatenate([p.accomp for p in pieces]),
        meta=np.concatenate([p.meta for p in pieces]),
        piece_ids=np.array([p.piece_id for p in pieces]),
        source_ids=np.array([p.source_id for p in pieces]),
        splits=np.array([p.split for p in pieces]),
    )
    tmp.replace(path)


def load_pieces(path: Path) -> list[PieceArrays]:
    """Read pieces written by :func:`save_pieces`.

    Each ``data[name]`` of an ``NpzFile`` decompresses the whole array again, so the
    arrays are read once and the pieces are views into them.
    """
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    melody, accomp, meta = arrays["melody"], arrays["accomp"], arrays["meta"]
    return [
        PieceArrays(
            piece_id=str(pid),
            source_id=str(sid),
            split=str(split),  # type: ignore[arg-type]
            melody=melody[a:b],
            accomp=accomp[a:b],
            meta=meta[a:b],
        )
        for pid, sid, split, a, b in zip(
            arrays["piece_ids"], arrays["source_ids"], arrays["splits"], bounds[:-1], bounds[1:],
            strict=True,
        )
    ]


def load_corpus(
    style: str,
    grid_cfg: ModelConfig,
    *,
    limit: int | None = None,
    rebuild: bool = False,
    verbose: bool = False,
) -> list[PieceArrays]:
    """The grids of a style's training corpus, on a model's grid, from the cache when possible.

    The style's recipe (:mod:`styletx.training.recipes`) says where its data comes
    from: the chorales are parsed from music21; an MMA style reads the MIDI
    renderings that ``styletx data STYLE`` wrote. ``limit`` (for tests) bypasses the cache.
    """
    path = corpus_cache_path(style, grid_cfg)
    if limit is None and path.exists() and not rebuild:
        return load_pieces(path)
    t0 = time.perf_counter()
    if recipe(style).mma is None:
        pieces = list(bach_pieces(limit, grid_cfg))
    else:
        folder = cache_dir() / "data" / style / "midi"
        if not folder.is_dir():
            raise StyleTxError(f"no corpus for style {style!r}: run `styletx data {style}` first")
        pieces = list(midi_folder_pieces(folder, grid_cfg))
        if limit:
            pieces = pieces[:limit]
    if not pieces:
        raise StyleTxError(f"the {style!r} corpus is empty")
    if limit is None:
        save_pieces(path, pieces)
    if verbose:
        frames = sum(p.n_frames for p in pieces)
        print(f"{style}: {len(pieces)} pieces, {frames} frames, built in {time.perf_counter() - t0:.1f} s")
    return pieces
