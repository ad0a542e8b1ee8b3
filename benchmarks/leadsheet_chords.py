"""Do real lead sheets keep their own chords? Chord agreement against the symbols, every style.

Run ``python benchmarks/leadsheet_chords.py [--styles bach,jazz] [--out docs/leadsheets.md]``.

The lead sheets:

* ``berlinAlexandersRagtime`` and ``fosterBrownHair``, the two lead sheets of music21's
  corpus (MusicXML with ``<harmony>``, repeats, lyrics);
* a chorale lead sheet exported by MuseScore 3 itself: the soprano of a Bach chorale of
  the test split with the chords of its own four voices (as :mod:`styletx.training.leadsheets`
  fits them) as chord symbols, written by music21, opened by ``mscore3`` (saved as
  ``.mscz``) and exported again as MusicXML by ``mscore3``; so the file that styletx
  reads is MuseScore's own export.

Each is rendered in every style from its MusicXML file, as ``styletx render`` does (the
score's chord symbols are the chart; seed 0; default settings). The measure: the
symbols realised as block chords beside the melody make the reference; reference and
output are each read per half bar by the project's own chord reader
(:func:`styletx.evaluation.metrics.estimate_chords`: templates on a duration-weighted
pitch-class profile of every note, melody included, the bass as tiebreak), and the
share of the reference's chorded half bars whose output chord has the same root and
family is the chord agreement (:func:`styletx.evaluation.metrics.chord_agreement`).
The same half bars are also read by the independent reader of "The song and the style
on real music" (:func:`styletx.evaluation.chordify.read_chords`: music21's chordify and
chord-symbol names, a duration vote per half bar), with the same comparison rule; both
are reported, and the target (0.9) holds for each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import transfer
from styletx.evaluation.chordify import read_chords
from styletx.evaluation.metrics import chord_agreement, estimate_chords, piece_of
from styletx.music.chords import INTERVALS
from styletx.music.song import Note, Parts, Song, Track
from styletx.score.read import read_song
from styletx.styles import load_style

STYLES = ("bach", "bossa", "folk", "jazz", "pop", "ragtime")
CHORALE = "bach/bwv305"  # a test-split chorale (styletx.training.splits.split_of)
TARGET = 0.9


def corpus_leadsheets() -> list[Path]:
    from music21 import corpus

    return [Path(str(corpus.getWork(f"leadSheet/{name}.mxl")))
            for name in ("berlinAlexandersRagtime", "fosterBrownHair")]


def musescore_leadsheet(folder: Path) -> Path:
    """The chorale lead sheet, written by music21 and exported again by MuseScore 3."""
    from music21 import harmony, key, metadata, meter, note, stream

    from styletx.training.leadsheets import parse_corpus_file
    from styletx.training.splits import split_of

    assert split_of(CHORALE) == "test", CHORALE
    sheet = parse_corpus_file(CHORALE)[0][0]
    part = stream.Part()
    part.partName = "Soprano"
    part.insert(0, meter.TimeSignature(f"{sheet.numerator}/{sheet.denominator}"))
    part.insert(0, key.Key(key.pitch.Pitch(sheet.tonic).name, "minor" if sheet.minor else "major"))
    for n in sheet.notes:
        part.insert(n.start, note.Note(n.pitch, quarterLength=n.end - n.start))
    first = sheet.notes[0].start
    for c in sheet.chords:
        figure = c.name[0] + c.name[1:].replace("b", "-", 1) if c.name[1:2] == "b" else c.name
        # a pickup's chord stands over its first note, not over the rests before it
        part.insert(max(c.bar * sheet.bar_beats + c.beat, first), harmony.ChordSymbol(figure))
    score = stream.Score([part.makeNotation()])
    score.insert(0, metadata.Metadata(title=f"{sheet.title or CHORALE} (lead sheet)", composer="J. S. Bach"))
    written = folder / "chorale.musicxml"
    score.write("musicxml", fp=str(written))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    mscz, exported = folder / "chorale.mscz", folder / "chorale_musescore.musicxml"
    for src, dst in ((written, mscz), (mscz, exported)):
        subprocess.run(["mscore3", "-o", str(dst), str(src)], env=env, check=True, capture_output=True)
    return exported


def agreement(song: Song, tracks: list[Track]) -> tuple[float, float]:
    """Chord agreement of an output with the song's chord symbols played as block chords,
    by the project's own reader and by the independent music21 reader."""
    melody = tracks[0]
    ends = [c.tick for c in song.chord_symbols[1:]] + [song.end_tick]
    blocks = [Note(c.tick, end, 48 + c.chord.root + i, 80)  # root position, root in the bass
              for c, end in zip(song.chord_symbols, ends, strict=True)
              if c.chord is not None and end > c.tick for i in INTERVALS[c.chord.quality]]
    reference = piece_of(song, Parts(melody, [Track("Chords", 0, False, blocks)], [], "symbols"))
    out = Song(song.resolution, tracks, song.tempos, song.time_signatures, song.key_signatures)
    output = piece_of(out, Parts(melody, [t for t in tracks[1:] if not t.is_drum], [], "output"),
                      like=reference)
    segments = reference.half_bars()
    own = chord_agreement(estimate_chords(reference, segments), estimate_chords(output, segments))
    m21 = chord_agreement(read_chords(reference, segments), read_chords(output, segments))
    return own.chord, m21.chord


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", default=",".join(STYLES))
    ap.add_argument("--out", type=Path, default=None, help="also write the table as Markdown here")
    args = ap.parse_args(argv)
    if shutil.which("mscore3") is None:
        print("mscore3 (Debian's musescore3) is needed for the MuseScore-exported lead sheet",
              file=sys.stderr)
        return 2
    rows: list[tuple[str, str, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sheets = [*corpus_leadsheets(), musescore_leadsheet(Path(tmp))]
        for name in args.styles.split(","):
            style = load_style(name)
            for path in sheets:
                t0 = time.perf_counter()
                result = transfer(path, style, seed=0)
                own, m21 = agreement(read_song(path), result.tracks)
                rows.append((name, path.stem, own, m21, time.perf_counter() - t0))
                print(f"{name:8} {path.stem:28} chord agreement own {own:.3f} m21 {m21:.3f}  "
                      f"({rows[-1][4]:.1f} s)", flush=True)
    lines = ["# Real lead sheets: chord agreement with their own symbols", "",
             "Generated by `python benchmarks/leadsheet_chords.py --out docs/leadsheets.md` (see its "
             "docstring for the lead sheets and the measure: the symbols played as block chords "
             "against the output, per half bar, read by the project's own chord reader and by the "
             "independent music21 reader; seed 0, default settings).", "",
             "| style | lead sheet | chord agreement (own) | chord agreement (m21) |", "|---|---|---|---|"]
    lines += [f"| {s} | {p} | {a:.3f} | {b:.3f} |" for s, p, a, b, _ in rows]
    passed = sum(min(a, b) >= TARGET for _, _, a, b, _ in rows)
    lines.append("")
    for col, reader in ((2, "own"), (3, "m21")):
        scores = [r[col] for r in rows]
        lines.append(f"- {reader} reader: {sum(a >= TARGET for a in scores)} of {len(rows)} reach {TARGET} "
                     f"(min {min(scores):.3f}, mean {sum(scores) / len(scores):.3f}).")
    lines.append(f"- both readers: {passed} of {len(rows)} reach {TARGET}.")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
