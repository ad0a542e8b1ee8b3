"""Fitting a style's performance feel (:class:`~styletx.music.performance.Feel`, issue #20).

The grid corpus keeps only off, onset and hold, so the feel is fitted from the played
files themselves: a shipped MMA style's renderings in the data cache (``styletx data STYLE``
writes them), the chorales for bach (which have no velocities or timing, so bach's feel is
even), or a user's own files (``train --data``, ``render --style-from``). Only the train split
is used, so the held-out renderings stay unseen for the benchmark (``benchmarks/feel_bench.py``).

``styletx train`` writes the feel beside the weights; ``styletx feel STYLE -o DIR`` fits it
alone, into an existing style folder (how the shipped styles' ``feel.json`` were made).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from styletx.errors import StyleTxError
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.music.performance import Feel, Observations
from styletx.music.song import Parts, Song
from styletx.paths import cache_dir
from styletx.stylefolder.format import StyleFolder
from styletx.training.splits import split_of

FIT_FILES = 300
"""Files a shipped style's feel is fitted on (the first of its train split, by name): a few
hundred thousand notes, more than the tables' contexts need."""


def fit_songs(songs: Iterable[tuple[Song, Parts]], steps_per_beat: int, bass_max_pitch: int,
              source: str) -> Feel:
    """The feel of played songs (melody and accompaniment as :func:`select_parts` split them)."""
    obs = Observations()
    count = 0
    for song, parts in songs:
        grid = build_grid(song, parts, steps_per_beat)
        obs.add(parts.melody, parts.accompaniment, grid, steps_per_beat, bass_max_pitch)
        count += 1
    return obs.fit(steps_per_beat, f"{source}: {count} files")


def style_songs(style: str, split: str = "train", limit: int | None = FIT_FILES,
                ) -> Iterable[tuple[Song, Parts]]:
    """A shipped style's played data of one split: its MMA renderings, or the chorales."""
    from styletx.io.reader import ReadWarnings, read_midi
    from styletx.training.corpus import chorale_ids, chorale_song
    from styletx.training.recipes import MmaSpec, recipe

    if not isinstance(recipe(style).data, MmaSpec):
        ids = [c for c in chorale_ids() if split_of(c) == split][:limit]
        for cid in ids:
            try:
                yield chorale_song(cid)
            except StyleTxError:
                continue
        return
    folder = cache_dir() / "data" / style / "midi"
    if not folder.is_dir():
        raise StyleTxError(f"no renderings for style {style!r}: run `styletx data {style}` first")
    manifest = folder.parent / "manifest.json"
    if not manifest.is_file():  # written last: the split needs each rendering's source melody
        raise StyleTxError(f"the {style!r} renderings have no manifest yet: let `styletx data "
                           f"{style}` finish")
    sources = {str(e["id"]): str(e.get("source_id", e["id"]))
               for e in json.loads(manifest.read_text()).get("pieces", [])}
    paths = [p for p in sorted(folder.glob("*.mid")) if split_of(sources.get(p.stem, p.stem)) == split]
    for path in paths[:limit]:
        song = read_midi(path, warnings=ReadWarnings())
        yield song, select_parts(song, melody_track="melody")


def fit_style_feel(style: str, *, limit: int | None = FIT_FILES, command: str = "") -> Feel:
    """A shipped style's feel, from the train split of its data."""
    from styletx.training.recipes import recipe

    r = recipe(style)
    kind = "MMA renderings" if r.data.kind == "mma" else "music21 chorales"
    feel = fit_songs(style_songs(style, "train", limit), r.steps_per_beat,
                     r.style_info("").bass_max_pitch, f"{style} {kind}, train split")
    return replace(feel, source=feel.source + (f" (`{command}`)" if command else ""))


def write_style_feel(style: str, directory: Path, *, limit: int | None = FIT_FILES,
                     command: str = "") -> Feel:
    """Fit a shipped style's feel and write it into the style folder ``directory``."""
    feel = fit_style_feel(style, limit=limit, command=command)
    StyleFolder(directory).write_feel(feel)
    return feel


def fit_files_feel(files: Iterable[tuple[Song, Parts]], directory: Path, source: str,
                   base: Feel | None = None) -> Feel:
    """A user style's feel from its own files, on the grid and bass limit its folder's card
    and architecture give; written into ``directory``. With ``base`` (the feel of the style it
    was fine-tuned or adapted from), the files' contexts replace the base's where they have
    enough notes (:meth:`Feel.adapted`)."""
    folder = StyleFolder(directory)
    feel = fit_songs(files, folder.read_config().steps_per_beat, folder.read_info().bass_max_pitch,
                     source)
    if base is not None:
        feel = base.adapted(feel)
    folder.write_feel(feel)
    return feel
