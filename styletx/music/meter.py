"""How an odd meter's bar falls into beats: 5/4 as 3+2, 7/8 as 2+2+3.

The styles are trained on bars of two, three and four beats (4/4, 3/4, 6/8, 2/2). A
5/4 or 7/8 bar sampled as written gives the model bar positions it never saw. A
musician counts such a bar in groups of two and three, so the grid does the same: each
group is read as a short bar of its own (:func:`styletx.music.grid.build_grid`). Its
first frame is an accent and a beat start, and chord segments and block chords start
there too. The bar numbers and the notes stay the input's.

The grouping comes from the score where it gives one: an additive signature such as
``3+2/4`` or ``2+2+3/8`` (:attr:`styletx.music.song.TimeSignature.groups`). Otherwise the
rule of :func:`beat_groups` applies. A MIDI file never gives a grouping.
"""

from __future__ import annotations

from dataclasses import dataclass

from styletx.music.song import TimeSignature


@dataclass(frozen=True)
class BeatGroups:
    """A bar's beat groups, in units of the signature's denominator (7/8 as 2+2+3: ``(2, 2, 3)``)."""

    sizes: tuple[int, ...]
    denominator: int

    def __post_init__(self) -> None:
        if not self.sizes or min(self.sizes) < 1:
            raise ValueError(f"beat groups must be positive, not {self.sizes}")

    @property
    def label(self) -> str:
        """``"2+2+3"``."""
        return "+".join(map(str, self.sizes))

    def starts(self, resolution: int) -> list[int]:
        """Each group's start, in ticks from the bar line (``resolution`` ticks per quarter)."""
        unit = 4 * resolution / self.denominator
        out, at = [], 0
        for size in self.sizes:
            out.append(round(at * unit))
            at += size
        return out


def rule_groups(numerator: int, denominator: int) -> tuple[int, ...]:
    """The documented rule for a bar that does not say how it groups (all of MIDI).

    Only odd numerators of 5 or more are regrouped (5, 7, 11, ...): two-, three- and
    four-beat bars and the compound meters (6/8, 9/8, 12/8) are counted as written.
    In quarter-note (or longer) meters the three comes first (5/4 as 3+2, 7/4 as 3+2+2,
    as in "Take Five"); in eighth-note (or shorter) meters it comes last (5/8 as 2+3,
    7/8 as 2+2+3, music21's beaming for 7/8 too). ``()``: counted as written.
    """
    if numerator < 5 or numerator % 2 == 0 or numerator == 9:
        return ()
    twos = (2,) * ((numerator - 3) // 2)
    return (3, *twos) if denominator <= 4 else (*twos, 3)


def beat_groups(ts: TimeSignature) -> BeatGroups | None:
    """How a bar of ``ts`` is counted: the score's own grouping, else :func:`rule_groups`;
    ``None`` for a bar counted as written. A given grouping that does not fill the bar is ignored
    (the rule counts it)."""
    sizes = ts.groups if sum(ts.groups) == ts.numerator else ()
    sizes = sizes or rule_groups(ts.numerator, ts.denominator)
    if len(sizes) < 2:
        return None
    return BeatGroups(tuple(sizes), ts.denominator)
