"""Unfolding a score's repeat bars and numbered endings in one pass over its measures.

music21's ``expandRepeats`` copies the whole part once per repeat it resolves, so its
cost grows with the product of the piece's length and its number of repeats: a
four-movement string quartet of 809 bars (Beethoven's op. 18 no. 4 in music21's corpus)
took 15 minutes to read (`benchmarks/bench_score_read.py`). It also sends an end-repeat
that has no matching start back to the first bar even when an earlier end-repeat closes
the section before it, so that quartet unfolded into 3,611 bars (and was then refused as
65 minutes of music), and a minuet and trio was played twice over.

Here the order of the measures is worked out first, from the barlines and the endings
alone (:func:`measure_order`), and each measure is then copied once for each time it is
played: the cost is the length of the unfolded piece. The rules are a player's:

* an end-repeat goes back to the last start-repeat, or, when there is none since the
  previous end-repeat (or since the last numbered ending), to the bar after it, or to the
  first bar; it is played ``times`` times (twice unless written);
* a numbered ending is played on the passes it is numbered for and skipped on the others;
  after the last ending the next section starts, on its first pass.

Jumps written as words (da capo, dal segno, with their fine or coda) need music21's reading
of those marks, so a score that has one is unfolded by music21 (:func:`unfold`). A fine, segno
or coda with no jump that leads to it changes nothing (music21 played a polonaise's 32 bars
with a lone "Fine" as 96) and is left out of the unfolded score, like the repeat barlines.
"""

from __future__ import annotations

import copy
from typing import Any

MAX_PASSES = 100
"""An unfolded part has at most this many times its written bars (a guard on ``times``)."""


def _repeat(barline: Any, direction: str) -> bool:
    from music21 import bar

    return isinstance(barline, bar.Repeat) and barline.direction == direction


def measure_order(part: Any) -> list[int] | None:
    """The indices of ``part``'s measures in the order they are played, or ``None`` when the
    part has a jump written as words (music21 reads those)."""
    from music21 import repeat, spanner, stream

    if part.flatten().getElementsByClass(repeat.RepeatExpressionCommand):
        return None
    measures = list(part.getElementsByClass(stream.Measure))
    n = len(measures)
    index = {id(m): i for i, m in enumerate(measures)}
    # an end-repeat may be written on the next bar's left; a start-repeat on the last bar's right
    ends = {i: measures[i].rightBarline.times or 2
            for i in range(n) if _repeat(measures[i].rightBarline, "end")}
    ends.update({i - 1: measures[i].leftBarline.times or 2
                 for i in range(1, n) if _repeat(measures[i].leftBarline, "end")})
    starts = {i for i in range(n) if _repeat(measures[i].leftBarline, "start")}
    starts |= {i + 1 for i in range(n - 1) if _repeat(measures[i].rightBarline, "start")}
    endings: dict[int, set[int]] = {}
    for bracket in part.spannerBundle.getByClass(spanner.RepeatBracket):
        spanned = [index[id(m)] for m in bracket.getSpannedElements() if id(m) in index]
        for i in range(min(spanned, default=0), max(spanned, default=-1) + 1):
            endings[i] = set(bracket.numberRange)
    order: list[int] = []
    start, passes, i, in_endings = 0, 1, 0, False
    while i < n and len(order) < MAX_PASSES * n:
        numbers = endings.get(i)
        if numbers is not None:
            in_endings = True
            if passes not in numbers:
                i += 1
                continue
        elif in_endings:  # past the last ending: a new section, on its first pass
            in_endings, start, passes = False, i, 1
        if i in starts and i != start:
            start, passes = i, 1
        order.append(i)
        if i in ends:
            if passes < ends[i]:
                passes, i, in_endings = passes + 1, start, False
                continue
            if numbers is None:
                start, passes = i + 1, 1
        i += 1
    return order


def _unfold_part(part: Any, order: list[int]) -> Any:
    """A copy of ``part`` with its measures copied in ``order``, repeat barlines made double
    barlines, and the endings' brackets and the repeat marks left out (music21's own
    conventions for this)."""
    from music21 import bar, repeat, spanner, stream

    measures = list(part.getElementsByClass(stream.Measure))
    post = part.cloneEmpty(derivationMethod="expandRepeats")
    post.mergeAttributes(part)
    for element in part.getElementsNotOfClass([stream.Measure, spanner.RepeatBracket]):
        post.insert(part.elementOffset(element), copy.deepcopy(element))
    offset = 0.0
    for i in order:
        measure = copy.deepcopy(measures[i])
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(measure, side), bar.Repeat):
                setattr(measure, side, bar.Barline("double"))
        for mark in list(measure.getElementsByClass(repeat.RepeatExpression)):
            measure.remove(mark)
        post.insert(offset, measure)
        offset += measure.duration.quarterLength
    return post


def unfold(score: Any) -> Any:
    """A copy of the music21 ``score`` with its repeats unfolded (see the module docstring).

    Each part is unfolded in the order of its first part's measures; a score whose parts
    do not have the same number of measures, or that has a jump written as words, goes to
    music21's ``expandRepeats``. Spanners (slurs, hairpins) are reconnected to the
    copies as music21 does: each to the last copy of the notes it spans.
    """
    from music21 import stream

    parts = list(score.getElementsByClass(stream.Part))
    order = measure_order(parts[0]) if parts else None
    lengths = {len(p.getElementsByClass(stream.Measure)) for p in parts}
    if order is None or len(lengths) != 1:
        return score.expandRepeats()
    post = score.cloneEmpty(derivationMethod="expandRepeats")
    post.mergeAttributes(score)
    for element in score.iter().getElementsNotOfClass(stream.Part):
        post.insert(score.elementOffset(element), copy.deepcopy(element))
    for part in parts:
        post.insert(0, _unfold_part(part, order))
    bundle = post.spannerBundle
    for element in post.recurse(includeSelf=False):
        if element.sites.hasSpannerSite():
            origin = element.derivation.origin
            if origin is not None and element.derivation.method == "__deepcopy__":
                bundle.replaceSpannedElement(origin, element)
    return post
