"""Training corpora as grids: Bach chorales from music21, MMA renderings, a user's MIDI folder.

A corpus is a list of :class:`PieceArrays`, the grid arrays of each piece with
its source id and split. A user's folder (:func:`read_folder`) is read file by file,
with the reason each unusable file is skipped, and split by the hash of each file.
Building a recipe's corpus is slow (parsing), so its arrays are cached as one ``.npz``
per style and grid resolution under :func:`styletx.paths.cache_dir`; a second build
loads that file.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from styletx.errors import BadMidiError, NoMelodyError, StyleTxError
from styletx.model.config import ModelConfig
from styletx.music.chords import Chord, chart_track
from styletx.music.encoding import MAX_BAR_STEPS, N_BAR_LENGTHS
from styletx.music.grid import Grid, build_grid
from styletx.music.song import KeySignature, Note, Parts, Song, TimeSignature, Track
from styletx.paths import cache_dir
from styletx.score.read import SONG_SUFFIXES, read_song
from styletx.training.recipes import Chorales, MmaSpec, recipe
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


# ------------------------------------------------------------------ MMA renderings


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


MIN_BEATS = 8
"""A file of a user's folder with fewer quarter notes of music than this is skipped as too short."""
MAX_BAR_BEATS = N_BAR_LENGTHS - 1  # the model's bar-length embedding holds bars of 1..15 quarter notes


# ------------------------------------------------------------ a user's MIDI folder

Gridder = Callable[[Song, Parts], Grid]
"""How a style grids a song (:meth:`Style.grid <styletx.stylefolder.format.Style.grid>`)."""



@dataclass
class FolderFile:
    """One usable file of a user's folder."""

    path: Path
    name: str  # path relative to the folder (or the path itself for loose files)
    digest: str  # SHA-1 of the file's bytes: its split and its source id
    song: Song
    parts: Parts
    beats: float  # quarter notes from the start to the last note's end
    meters: list[str]
    split: Split = "train"


@dataclass
class Skipped:
    name: str
    reason: str


@dataclass
class FolderCorpus:
    """The usable files of a folder, the skipped ones with their reasons, and the grid choice."""

    root: Path
    files: list[FolderFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    steps_per_beat: int = 4
    steps_reason: str = ""

    @property
    def beats(self) -> float:
        return float(sum(f.beats for f in self.files))

    def summary(self) -> dict:
        """JSON-ready facts about the data: files, skips, meters, beats, density, split."""
        acc_notes = sum(len(t.notes) for f in self.files for t in f.parts.accompaniment)
        mel_notes = sum(len(f.parts.melody.notes) for f in self.files)
        meters = Counter(m for f in self.files for m in f.meters)
        beats = max(self.beats, 1e-9)
        return {
            "folder": str(self.root),
            "files_used": len(self.files),
            "files_skipped": len(self.skipped),
            "skipped": [{"file": s.name, "reason": s.reason} for s in self.skipped],
            "meters": dict(meters.most_common()),
            "beats": round(self.beats, 2),
            "accompaniment_notes_per_beat": round(acc_notes / beats, 3),
            "melody_notes_per_beat": round(mel_notes / beats, 3),
            "steps_per_beat": self.steps_per_beat,
            "steps_reason": self.steps_reason,
            "split": {s: sum(f.split == s for f in self.files) for s in ("train", "valid", "test")},
        }

    def format_summary(self) -> str:
        """The one-screen summary ``train --data`` prints."""
        s = self.summary()
        meters = ", ".join(f"{m} ({n} files)" for m, n in s["meters"].items()) or "none"
        reasons = Counter(k.reason.split(":")[0] for k in self.skipped)
        lines = [
            f"data: {s['folder']}",
            f"  files: {s['files_used']} used, {s['files_skipped']} skipped"
            + (f" ({', '.join(f'{n} {r}' for r, n in reasons.most_common())})" if reasons else ""),
            f"  meters: {meters}",
            f"  total: {s['beats']:.0f} beats; per beat {s['accompaniment_notes_per_beat']:.2f} "
            f"accompaniment notes, {s['melody_notes_per_beat']:.2f} melody notes",
            f"  grid: {s['steps_per_beat']} steps per beat ({s['steps_reason']})",
            f"  split by file: {s['split']['train']} train, {s['split']['valid']} valid, "
            f"{s['split']['test']} test",
        ]
        return "\n".join(lines)

    def split_record(self) -> dict:
        """The style folder's file split: which file went where, and the rule."""
        out: dict = {"rule": "SHA-1 of the file's bytes modulo 10: 8 = valid, 9 = test, else train "
                             "(styletx/training/splits.py); with fewer than 10 files at least one file is "
                             "moved to valid, and to test from 5 files on"}
        for s in ("train", "valid", "test"):
            out[s] = [{"file": f.name, "sha1": f.digest} for f in self.files if f.split == s]
        return out

    def pieces(self, steps_per_beat: int, grid: Gridder) -> list[PieceArrays]:
        """The files on the grid; files whose meter the grid cannot hold move to ``skipped``.

        ``grid`` is how the style the pieces are for grids a song (:meth:`Style.grid
        <styletx.stylefolder.format.Style.grid>`, or :func:`styletx.training.own.new_style_grid`
        for a style still to be trained), at ``steps_per_beat``."""
        out: list[PieceArrays] = []
        keep: list[FolderFile] = []
        for f in self.files:
            problem = meter_problem(f.song, steps_per_beat)
            if problem:
                self.skipped.append(Skipped(f.name, f"meter the grid cannot hold: {problem}"))
                continue
            out.append(piece_from_grid(f.name, f.digest, grid(f.song, f.parts), split=f.split))
            keep.append(f)
        self.files = keep
        return out


def midi_files(folder: Path) -> list[Path]:
    """Every MIDI file and score under ``folder``, recursively, sorted (hidden folders left out)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SONG_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def meter_problem(song: Song, steps_per_beat: int) -> str | None:
    """Why the grid cannot hold one of the song's meters, or ``None``."""
    from styletx.music.timing import meter_map

    for ts in meter_map(song):
        quarters = 4 * ts.numerator / ts.denominator
        steps = quarters * steps_per_beat
        if quarters > MAX_BAR_BEATS:
            return f"{ts.numerator}/{ts.denominator} bars are longer than {MAX_BAR_BEATS} beats"
        if steps > MAX_BAR_STEPS:
            return (f"{ts.numerator}/{ts.denominator} bars hold {steps:g} steps at "
                    f"{steps_per_beat} steps per beat (at most {MAX_BAR_STEPS})")
        if abs(steps - round(steps)) > 1e-9:
            return (f"{ts.numerator}/{ts.denominator} bars are not a whole number of steps at "
                    f"{steps_per_beat} steps per beat")
    return None


def _meters(song: Song) -> list[str]:
    from styletx.music.timing import meter_map

    return sorted({f"{ts.numerator}/{ts.denominator}" for ts in meter_map(song)})


def read_one(path: Path, name: str, melody_track: int | str | None = None) -> FolderFile | Skipped:
    """Read one file for training, or say why it cannot be used."""
    from styletx.music.parts import select_parts

    try:
        data = path.read_bytes()
        song = read_song(path)
        parts = select_parts(song, melody_track)
    except NoMelodyError as e:
        return Skipped(name, f"no melody: {_first_clause(e)}")
    except BadMidiError as e:
        text = str(e)
        if "only drums" in text or "drums only" in text:
            return Skipped(name, "drums only")
        return Skipped(name, f"unreadable: {_first_clause(e)}")
    except (StyleTxError, OSError) as e:
        return Skipped(name, f"unreadable: {_first_clause(e)}")
    if not any(t.notes for t in parts.accompaniment):
        return Skipped(name, "no accompaniment: only a melody, nothing to learn from")
    end = max(n.end for t in [parts.melody, *parts.accompaniment] for n in t.notes)
    beats = end / song.resolution
    if beats < MIN_BEATS:
        return Skipped(name, f"too short: {beats:.1f} beats of music (at least {MIN_BEATS})")
    return FolderFile(path=path, name=name, digest=hashlib.sha1(data).hexdigest(), song=song,
                      parts=parts, beats=beats, meters=_meters(song))


def _first_clause(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text.split(";")[0]


def read_files(
    paths: Sequence[Path], root: Path | None = None, melody_track: int | str | None = None,
) -> FolderCorpus:
    """Read files (a folder's, or given ones), split them by hash and choose the grid."""
    corpus = FolderCorpus(root=root or Path("."))
    for path in paths:
        name = str(path.relative_to(root)) if root else str(path)
        got = read_one(path, name, melody_track)
        (corpus.skipped if isinstance(got, Skipped) else corpus.files).append(got)
    assign_splits(corpus.files)
    corpus.steps_per_beat, corpus.steps_reason = detect_steps_per_beat(corpus.files)
    return corpus


def read_folder(folder: Path, melody_track: int | str | None = None) -> FolderCorpus:
    """Read a folder for ``train --data``; raises when there is nothing usable in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StyleTxError(f"--data {folder}: not a folder")
    paths = midi_files(folder)
    if not paths:
        raise StyleTxError(f"--data {folder}: no MIDI files or scores (.mid, .midi, .musicxml, .mxl) "
                           "in it or below it")
    corpus = read_files(paths, folder, melody_track)
    if not corpus.files:
        reasons = Counter(s.reason.split(":")[0] for s in corpus.skipped)
        raise StyleTxError(
            f"--data {folder}: no usable MIDI file among {len(paths)} "
            f"({', '.join(f'{n} {r}' for r, n in reasons.most_common())})")
    return corpus


def assign_splits(files: list[FolderFile]) -> None:
    """Split by the SHA-1 of each file (:func:`styletx.training.splits.split_of`), then make sure a
    small folder still has a validation file (from 2 files) and a test file (from 5)."""
    for f in files:
        f.split = split_of(f.digest)
    by_hash = sorted(files, key=lambda f: f.digest)
    for split, minimum in (("valid", 2), ("test", 5)):
        if len(files) >= minimum and not any(f.split == split for f in files):
            train = [f for f in by_hash if f.split == "train"]
            if len(train) > 1:
                train[-1].split = split  # type: ignore[assignment]


def detect_steps_per_beat(files: Sequence[FolderFile]) -> tuple[int, str]:
    """4, 6 or 12 steps per beat: what the data's onsets need.

    Each onset's position in its beat is classed as straight (a multiple of 1/4 beat) or
    triplet (1/3, 2/3, 1/6 or 5/6). Triplets on at least 5 % of the onsets need 6 steps;
    if sixteenths off the eighths (1/4, 3/4) are also that common, 12.
    """
    straight16 = triplet = total = 0
    for f in files:
        res = f.song.resolution
        tol = res / 48
        for t in [f.parts.melody, *f.parts.accompaniment]:
            for n in t.notes:
                pos = (n.start % res) / res
                total += 1
                if any(abs(pos - x) <= tol / res for x in (0.25, 0.75)):
                    straight16 += 1
                elif any(abs(pos - x) <= tol / res for x in (1 / 6, 1 / 3, 2 / 3, 5 / 6)):
                    triplet += 1
    if total == 0:
        return 4, "no onsets"
    t_share, s_share = triplet / total, straight16 / total
    why = f"{t_share:.0%} of onsets on triplet positions, {s_share:.0%} on sixteenths"
    if t_share >= 0.05:
        return (12 if s_share >= 0.05 else 6), why
    return 4, why


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
    renderings that ``styletx data STYLE`` wrote (:func:`build_corpus`). ``limit``
    (for tests) bypasses the cache.
    """
    path = corpus_cache_path(style, grid_cfg)
    if limit is None and path.exists() and not rebuild:
        return load_pieces(path)
    t0 = time.perf_counter()
    data = recipe(style).data
    if isinstance(data, Chorales):
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


def build_corpus(
    style: str, *, steps_per_beat: int | None = None, limit: int | None = None, seed: int = 0,
    jobs: int = 2, rebuild: bool = False, verbose: bool = True,
) -> list[PieceArrays]:
    """``styletx data STYLE``: make a shipped style's corpus and cache its grids.

    An MMA style's lead sheets are rendered first (:func:`styletx.training.mma.build_style_corpus`,
    ``limit`` pieces); the chorales need only parsing. ``steps_per_beat`` overrides the
    recipe's grid.
    """
    import dataclasses

    style_recipe = recipe(style)
    if isinstance(style_recipe.data, MmaSpec):
        from styletx.training.mma import build_style_corpus

        build_style_corpus(style, limit=limit, seed=seed, jobs=jobs)
    grid = style_recipe.model_config()
    if steps_per_beat:
        grid = dataclasses.replace(grid, steps_per_beat=steps_per_beat)
    return load_corpus(style, grid, rebuild=rebuild, verbose=verbose)
