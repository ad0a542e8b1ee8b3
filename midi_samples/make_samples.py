"""Generate the sample inputs in ``midi_samples/`` (the pieces the README renders).

* ``chorale_bwv254.mid`` -- Bach's chorale BWV 254 from the music21 corpus, 4/4
  with a one-beat pickup, in D minor: soprano as the track "Melody", alto,
  tenor and bass together as one "Piano" track.
* ``waltz_in_g.mid`` -- a 16-bar folk-style waltz in G major, 3/4: a melody
  and an oom-pah-pah piano accompaniment (bass on beat 1, chord on 2 and 3).

Run ``python midi_samples/make_samples.py``; the output is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from music21 import corpus

from styletx.io.writer import write_midi
from styletx.music.song import KeySignature, Note, Song, TempoChange, TimeSignature, Track

HERE = Path(__file__).resolve().parent
RES = 480


def chorale(name: str = "bach/bwv254") -> tuple[Song, list[Track]]:
    """Soprano as the melody, the lower three voices as one piano part."""
    score = corpus.parse(name)
    key = score.analyze("key")
    voices = []
    for part in score.parts:
        notes = [
            Note(round(float(n.offset) * RES),
                 round(float(n.offset + n.duration.quarterLength) * RES), n.pitch.midi, 80)
            for n in part.stripTies().flatten().notes
        ]
        voices.append(sorted(notes))
    first = score.parts[0].getElementsByClass("Measure")[0]
    meter = score.parts[0].recurse().getElementsByClass("TimeSignature")[0]
    meters = [TimeSignature(0, meter.numerator, meter.denominator)]
    if first.paddingLeft > 0:  # pickup: a short bar of its own, then the real meter
        pickup = round(float(first.duration.quarterLength) * RES)
        meters = [TimeSignature(0, pickup // RES, 4), TimeSignature(pickup, meter.numerator,
                                                                    meter.denominator)]
    tonic = key.tonic.pitchClass
    song = Song(RES, [], [TempoChange(0, 750_000)], meters,
                [KeySignature(0, tonic, key.mode == "minor")])
    melody = Track("Melody", 73, False, voices[0], channel=0)
    piano = Track("Piano", 0, False, sorted(n for v in voices[1:] for n in v), channel=1)
    return song, [melody, piano]


# (pitch, beats) per bar, and the bar's chord.
WALTZ = [
    ([(74, 2), (71, 1)], "G"), ([(67, 2), (71, 1)], "G"),
    ([(72, 2), (76, 1)], "C"), ([(74, 3)], "G"),
    ([(72, 2), (69, 1)], "D7"), ([(66, 2), (69, 1)], "D7"),
    ([(71, 1), (72, 1), (71, 1)], "G"), ([(69, 3)], "D"),
    ([(74, 2), (71, 1)], "G"), ([(67, 2), (71, 1)], "G"),
    ([(72, 2), (76, 1)], "C"), ([(79, 3)], "C"),
    ([(78, 1), (76, 1), (74, 1)], "D"), ([(72, 1), (71, 1), (69, 1)], "D7"),
    ([(71, 2), (69, 1)], "D7"), ([(67, 3)], "G"),
]
CHORD = {"G": (43, (55, 59, 62)), "C": (48, (55, 60, 64)), "D": (50, (54, 57, 62)),
         "D7": (50, (54, 57, 60))}


def waltz() -> tuple[Song, list[Track]]:
    """The waltz: melody notes slightly detached, oom-pah-pah accompaniment."""
    bar = 3 * RES
    melody, piano = [], []
    for b, (notes, chord) in enumerate(WALTZ):
        t = b * bar
        for pitch, beats in notes:
            melody.append(Note(t, t + beats * RES - RES // 8, pitch, 88))
            t += beats * RES
        bass, triad = CHORD[chord]
        piano.append(Note(b * bar, b * bar + RES, bass, 70))
        piano += [Note(b * bar + k * RES, b * bar + k * RES + RES * 3 // 4, p, 55)
                  for k in (1, 2) for p in triad]
    song = Song(RES, [], [TempoChange(0, 428_571)], [TimeSignature(0, 3, 4)],
                [KeySignature(0, 7, False)])
    return song, [Track("Melody", 71, False, melody, channel=0),
                  Track("Piano", 0, False, sorted(piano), channel=1)]


def write_samples(folder: Path = HERE) -> list[Path]:
    """Write the samples into ``folder`` (this one by default) and return their paths."""
    samples = {"chorale_bwv254.mid": chorale(), "waltz_in_g.mid": waltz()}
    return [write_midi(folder / name, song, tracks, force=True) for name, (song, tracks) in samples.items()]


def main() -> int:
    write_samples()
    return 0


if __name__ == "__main__":
    sys.exit(main())
