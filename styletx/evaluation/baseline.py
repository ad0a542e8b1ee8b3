"""The rule-based baseline a style transfer has to beat: detected chords played by an MMA groove.

For an input song: estimate one chord per half bar from the input
(:func:`styletx.evaluation.metrics.estimate_chords`, the evaluation's own estimator),
write them as an MMA chart for one groove of the target style in the input's
meter and tempo, render it, drop MMA's drums, move the accompaniment onto the
input's resolution and bar grid, and put the original melody track back
unchanged. The tempo, meter and key maps are the input's.

MMA is needed to *run* the baseline (``apt-get install mma``), as it is needed to
build the corpora; styletx itself never needs it. ``benchmarks/baseline_mma.py``
is the command-line wrapper.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from styletx.errors import StyleTxError
from styletx.evaluation.metrics import estimate_chords, piece_of
from styletx.io.reader import read_midi
from styletx.music.chords import Chord
from styletx.music.song import Note, Parts, Song, Track
from styletx.music.timing import bar_length, meter_map, tempo_map
from styletx.training.leadsheets import ChordChange, LeadSheet
from styletx.training.mma import MMA_BEATS_PER_BAR, MMA_RESOLUTION, mma_binary, render_piece
from styletx.training.recipes import RECIPES

BASELINE_GROOVES: dict[str, dict[int, str]] = {name: r.baseline() for name, r in RECIPES.items()}
"""The one MMA groove per style and meter numerator (:meth:`~styletx.training.recipes.Recipe.baseline`)."""

SUPPORTED_METERS = ((4, 4), (3, 4), (6, 8))


def baseline_groove(style: str, song: Song) -> tuple[str, int, int, int]:
    """The groove for ``song`` in ``style``, its meter, and the pickup length in ticks.

    Raises
    ------
    StyleTxError
        The style has no groove for the song's meter, or the meter changes
        (other than a pickup bar), so one groove cannot play it.
    """
    meters = meter_map(song)
    pickup = 0
    if len(meters) == 2 and meters[1].tick < bar_length(meters[1], song.resolution) \
            and meters[1].tick == bar_length(meters[0], song.resolution):
        pickup = meters[1].tick
        meters = [meters[1]]
    if len({(m.numerator, m.denominator) for m in meters}) != 1:
        raise StyleTxError("the meter changes; one MMA groove cannot play it")
    num, den = meters[0].numerator, meters[0].denominator
    if (num, den) not in SUPPORTED_METERS:
        raise StyleTxError(f"meter {num}/{den} is not one the baseline plays (4/4, 3/4, 6/8)")
    grooves = BASELINE_GROOVES.get(style)
    if grooves is None:
        raise StyleTxError(f"no baseline groove for style {style!r}")
    if num not in grooves:
        raise StyleTxError(f"style {style!r} has no {num}/{den} groove for the baseline")
    return grooves[num], num, den, pickup


def baseline_chart(song: Song, parts: Parts, style: str) -> tuple[LeadSheet, str, int]:
    """The lead sheet MMA plays (chords only), its groove, and the tick shift to the input.

    Lead-sheet time 0 is the start of the first *full* bar; a pickup sits at the end
    of lead-sheet bar 0, so input tick ``t`` is lead-sheet tick ``t + shift``. A chord
    change goes to the nearest MMA beat slot (in 3/4 the second half bar starts on
    beat 3); an empty half bar keeps the chord before it.
    """
    groove, num, den, pickup = baseline_groove(style, song)
    res = song.resolution
    bar_ticks = round(res * 4 * num / den)
    shift = bar_ticks - pickup if pickup else 0
    piece = piece_of(song, parts)
    segments = piece.half_bars()
    chords = estimate_chords(piece, segments)
    key = int(piece.key_codes[0])
    bar_q = 4 * num / den
    beat_q = bar_q / MMA_BEATS_PER_BAR[num]
    changes: list[ChordChange] = []
    previous: str | None = None
    for (start, _), chord in zip(segments, chords, strict=True):
        if chord is None:
            continue
        q = (int(start) + shift) / res
        bar = int(q // bar_q + 1e-9)
        slot = math.floor((q - bar * bar_q) / beat_q + 0.5)
        if slot >= MMA_BEATS_PER_BAR[num]:
            bar, slot = bar + 1, 0
        if not changes:
            bar, slot = 0, 0  # MMA needs a chord on the first beat
        if changes and (changes[-1].bar, changes[-1].beat) == (bar, slot * beat_q):
            changes.pop()
        if chord.name != previous or not changes:
            changes.append(ChordChange(bar, slot * beat_q, chord.name))
        previous = chord.name
    if not changes:
        tonic_chord = Chord(key % 12, "m" if key >= 12 else "")
        changes.append(ChordChange(0, 0.0, tonic_chord.name))
    n_bars = max(math.ceil((piece.end_tick + shift) / bar_ticks), changes[-1].bar + 1)
    sheet = LeadSheet(source_id="baseline/input", notes=[], numerator=num, denominator=den,
                      pickup=pickup / res, tonic=key % 12, minor=key >= 12, chords=changes,
                      n_bars=n_bars, title="baseline")
    return sheet, groove, shift


BASELINE_SEED = 1
"""MMA's ``RndSeed`` for the baseline: its grooves skip notes and shift timing at random."""


def baseline_tracks(song: Song, parts: Parts, style: str, seed: int = BASELINE_SEED) -> list[Track]:
    """The baseline's output parts: the melody (unchanged) then MMA's pitched tracks."""
    mma_binary()  # a one-line error when MMA is missing
    sheet, groove, shift = baseline_chart(song, parts, style)
    tempo = tempo_map(song)[0].bpm
    with tempfile.TemporaryDirectory(prefix="styletx-baseline-") as tmp:
        path = Path(tmp) / "baseline.mid"
        try:
            render_piece(sheet, groove, tempo, path, seed=seed)
        except RuntimeError as e:
            raise StyleTxError(f"MMA failed: {e}") from e
        rendered = read_midi(path)
    res = song.resolution
    end = piece_of(song, parts).end_tick
    tracks = [parts.melody]
    for t in rendered.tracks:
        if t.is_drum or t.name == "melody":
            continue
        notes = []
        for n in t.notes:
            start = round(n.start * res / MMA_RESOLUTION) - shift
            stop = round(n.end * res / MMA_RESOLUTION) - shift
            if stop <= 0 or start >= end:
                continue
            start, stop = max(start, 0), min(stop, end)
            notes.append(Note(start, max(stop, start + 1), n.pitch, n.velocity))
        if notes:
            tracks.append(Track(name=t.name, program=t.program, is_drum=False,
                                notes=sorted(notes)))
    return tracks


def baseline_song(song: Song, parts: Parts, style: str, seed: int = BASELINE_SEED) -> Song:
    """The whole baseline output as a song with the input's resolution and maps (same seed,
    same input: the same notes)."""
    return Song(resolution=song.resolution, tracks=baseline_tracks(song, parts, style, seed),
                tempos=list(song.tempos), time_signatures=list(song.time_signatures),
                key_signatures=list(song.key_signatures), source="")
