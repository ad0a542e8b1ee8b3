"""Unfolding a score's repeats, endings and jumps in one pass over its measures.

music21's ``expandRepeats`` copies the whole part once per repeat it resolves, so its
cost grows with the product of the piece's length and its number of repeats: a
four-movement string quartet of 809 bars (Beethoven's op. 18 no. 4 in music21's corpus)
took 15 minutes to read (`benchmarks/bench_score_read.py`). It also sends an end-repeat
that has no matching start back to the first bar even when an earlier end-repeat closes
the section before it, so that quartet unfolded into 3,611 bars (and was then refused as
65 minutes of music), and a minuet and trio was played twice over.

Here the order of the measures is worked out first, from the barlines, the endings and
the jump marks alone (:func:`measure_order`), and each measure is then copied once for each time it is
played: the cost is the length of the unfolded piece. The rules are a player's:

* an end-repeat goes back to the last start-repeat, or, when there is none since the
  previous end-repeat (or since the last numbered ending), to the bar after it, or to the
  first bar; it is played ``times`` times (twice unless written);
* a numbered ending is played on the passes it is numbered for and skipped on the others;
  after the last ending the next section starts, on its first pass;
* a da capo or dal segno is taken once, after the repeats of its section, and what follows
  it is played without repeats, on the last ending, to the fine, or to the "to coda" bar and
  on from the coda (music21 reads the marks, this module the order they make).

A fine, segno or coda that no jump leads to changes nothing (music21 played a polonaise's 32
bars with a lone "Fine" as 96) and is left out of the unfolded score, like the repeat
barlines. A score with more than one jump, or marks this reading cannot pair, is unfolded by
music21 (:func:`unfold`).
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

MAX_PASSES = 100
"""An unfolded part has at most this many times its written bars (a guard on ``times``)."""


def _repeat(barline: Any, direction: str) -> bool:
    from music21 import bar

    return isinstance(barline, bar.Repeat) and barline.direction == direction


class Jump(NamedTuple):
    """A da capo or dal segno: where it is written, where it goes, and where the music ends."""

    at: int  # the bar of the command
    to: int  # the first bar, or the segno's
    fine: int | None  # the bar that ends the piece after the jump
    coda: tuple[int, int] | None  # the "to coda" bar and the coda's first bar


def _jump(measures: list[Any]) -> Jump | None:
    """The one jump written as words, or ``None``; ``ValueError`` when it is more than this
    module reads (two commands, a dal segno without one segno, a coda without both marks)."""
    from music21 import repeat

    def bars(kind: type) -> list[int]:
        return [i for i, m in enumerate(measures) if m.recurse().getElementsByClass(kind)]

    commands = [(i, c) for i, m in enumerate(measures)
                for c in m.recurse().getElementsByClass(repeat.RepeatExpressionCommand)]
    if not commands:
        return None
    if len(commands) > 1:
        raise ValueError("more than one jump")
    (at, command), = commands
    name = type(command).__name__
    segnos, fines, codas = bars(repeat.Segno), bars(repeat.Fine), bars(repeat.Coda)
    if "Segno" in name and len(segnos) != 1:
        raise ValueError("a dal segno needs one segno")
    if "Coda" in name and len(codas) != 2:
        raise ValueError("an al coda needs a 'to coda' and a coda")
    return Jump(at, segnos[0] if "Segno" in name else 0,
                fines[0] if fines and "Coda" not in name else None,
                (codas[0], codas[1]) if "Coda" in name else None)


def _last_endings(endings: dict[int, set[int]]) -> set[int]:
    """The bars of each run of endings' last ending: what is played after a jump."""
    out: set[int] = set()
    run: list[int] = []
    for i in [*sorted(endings), None]:
        if run and (i is None or i != run[-1] + 1):
            out |= {j for j in run if endings[j] == endings[run[-1]]}
            run = []
        if i is not None:
            run.append(i)
    return out


def measure_order(part: Any) -> list[int] | None:
    """The indices of ``part``'s measures in the order they are played, or ``None`` when the
    part has a jump written as words that this module does not read (music21 reads those).

    A da capo or dal segno is taken once, after the repeats of its bar's section, and the
    music after it is played as a player does: without repeats, on the last ending, to the
    fine, or to the "to coda" bar and from there to the coda.
    """
    from music21 import spanner, stream

    measures = list(part.getElementsByClass(stream.Measure))
    try:
        jump = _jump(measures)
    except ValueError:
        return None
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
    last_ending = _last_endings(endings)
    order: list[int] = []
    start, passes, i, in_endings, jumped = 0, 1, 0, False, False
    while i < n and len(order) < MAX_PASSES * n:
        numbers = endings.get(i)
        if jumped:  # after the jump: no repeats, the last endings, to the fine or the coda
            if numbers is None or i in last_ending:
                order.append(i)
            if i == jump.fine:
                break
            i = jump.coda[1] if jump.coda and i == jump.coda[0] else i + 1
            continue
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
        if jump is not None and i == jump.at:
            jumped, i = True, jump.to
            continue
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
        for mark in list(measure.recurse().getElementsByClass(repeat.RepeatExpression)):
            mark.activeSite.remove(mark)  # found in voices too, as measure_order finds them
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
