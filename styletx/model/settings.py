"""How a transfer samples: plain settings, with no torch, so the CLI and the API can read them cheaply.

:class:`SamplerSettings` is what :func:`styletx.model.sampler.resample_accompaniment` takes,
its seed spawning the independent random streams of the start, the masker and the network
(:class:`SeedStreams`); :class:`HarmonyPrior` is a style's prior on onsets (read from its
``style.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor


CLASH_INTERVALS = (-1, 1)
"""The rubs the clash cost charges: the accompaniment's pitch class a semitone below (-1) or
above (+1) the melody's, at any distance (a semitone, a minor ninth, a major seventh, ...).
The clash metric and the ear hear the pitch classes: in the jazz data exact semitones and
minor ninths are 0.016 of the onsets under a melody note, while its clash is 0.107."""


@dataclass(frozen=True)
class HarmonyPrior:
    """A style's prior on onsets, multiplied into the network's distribution when sampling.

    The network already reads the chord; the prior makes the song's harmony binding,
    as a product of experts: ``p(state) ∝ p_net(state) · exp(bias)``, where the bias is
    ``-non_chord`` on the onset of a pitch outside the frame's chord and, at the first
    frame of a chord segment (a half bar, or a chord change), ``∓bass_root / 2`` on a
    lowest sounding note (struck or held): a bonus for the chord's root, a cost for
    any other pitch; ``-above_melody`` on an onset above the sounding melody note
    (a musician voices the accompaniment under the tune, as far as the style does);
    ``-clash`` on an onset or a hold a semitone from it in pitch class
    (:mod:`styletx.model.clash`); ``+complete`` on the onset of a chord tone that
    sounds nowhere else in its chord segment (:mod:`styletx.model.coverage`); and
    ``-tacet`` on an onset where there is no chord (a chart's ``N.C.``, the rests
    before its first symbol: the band lays out; a style's ``chart_prior`` only).
    Values are in logits (nats); each style's ``style.json`` holds its own, chosen on
    the bench (``docs/quality.md``) to keep the song's chords without losing the texture.
    """

    non_chord: float = 0.0
    bass_root: float = 0.0
    above_melody: float = 0.0
    clash: float = 0.0
    """Cost of an onset or a hold whose pitch class is a semitone from the sounding melody
    pitch's (:mod:`styletx.model.clash`), but for the :attr:`clash_exceptions`."""
    clash_exceptions: tuple[tuple[str, int, int], ...] = ()
    """``(chord quality, melody degree above the root, -1 or +1 (the rub's side, CLASH_INTERVALS))``:
    the pairings the style's data plays often enough to keep (``benchmarks/clash_exceptions.py``)."""
    complete: float = 0.0
    """Bonus for the onset of a chord tone whose pitch class the rest of its chord segment
    (accompaniment and melody) does not sound (:mod:`styletx.model.coverage`)."""
    tacet: float = 0.0
    """Cost of an onset in a frame without a chord: a chart's prior (a style's ``chart_prior``)
    only, since there no chord is an instruction, not a segment the estimate could not name."""

    def __post_init__(self) -> None:  # style.json gives lists
        object.__setattr__(self, "clash_exceptions",
                           tuple((str(q), int(d), int(i)) for q, d, i in self.clash_exceptions))

    def exception_table(self) -> np.ndarray:
        """``bool [qualities + 1 (no chord), 12 degrees, len(CLASH_INTERVALS)]``: the exceptions."""
        from styletx.music.chords import QUALITIES

        table = np.zeros((len(QUALITIES) + 1, 12, len(CLASH_INTERVALS)), dtype=bool)
        for quality, degree, interval in self.clash_exceptions:
            table[QUALITIES.index(quality), degree % 12, CLASH_INTERVALS.index(interval)] = True
        return table

    def onset_bias(
        self, flags: Tensor, has_chord: Tensor, above: Tensor, clashing: Tensor | None = None,
        missing: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``(everywhere [N, P], lowest note at a segment start [N, P])`` onset biases.

        ``flags [N, P, 2]`` are the chord-tone and root flags of each frame's pitches,
        ``above [N, P]`` marks the pitches above the sounding melody note and ``clashing``
        those the clash cost charges (:func:`styletx.model.clash.clash_onsets`); ``missing``
        the pitches whose pitch class the rest of the segment lacks
        (:func:`styletx.model.coverage.missing_tones`).
        """
        known = has_chord[:, None].float()
        tone, root = flags[..., 0], flags[..., 1]
        everywhere = (-self.non_chord * (1 - tone) * known - self.tacet * (1 - known)
                      - self.above_melody * above.float())
        if clashing is not None:
            everywhere = everywhere - self.clash * clashing.float()
        if missing is not None:
            everywhere = everywhere + self.complete * ((tone + root) * known) * missing.float()
        return everywhere, self.bass_root * (root - 0.5) * known


@dataclass(frozen=True)
class StartVoicing:
    """The registers of the block chords that start a melody-only input (MIDI pitches).

    At each chord the root sits below ``bass_below`` (the highest such root) and up to
    three chord tones in ``[tones_lo, tones_hi)`` above it; a beat without a chord
    starts from three random in-key tones in ``[free_lo, free_hi)``. The sampler
    rewrites it all, so these only say where the rewriting starts from. A style's
    card holds its own (:class:`styletx.stylefolder.format.StyleInfo`).
    """

    bass_below: int = 52
    tones_lo: int = 52
    tones_hi: int = 67
    free_lo: int = 48
    free_hi: int = 72


class SeedStreams(NamedTuple):
    """Independent random streams of one seed, one for each part that draws."""

    start: np.random.SeedSequence  # the starting roll's chordless beats (styletx.model.start)
    masker: np.random.SeedSequence  # which beats and frames are redrawn (the masker, the schedule)
    network: np.random.SeedSequence  # the network's draws (a torch generator)
    feel: np.random.SeedSequence  # the performance layer's draws (styletx.music.performance)


ScheduleName = Literal["default", "paper"]
"""The schedules :data:`styletx.model.sampler.SCHEDULES` implements."""


@dataclass(frozen=True)
class SamplerSettings:
    """How to resample.

    The API (:func:`styletx.transfer`, :func:`styletx.render`, batch) and ``styletx render`` expose
    ``schedule``, ``temperature``, ``strength``, ``sweeps`` and ``seed`` (DeepBach's
    generation signature: temperature, iteration count, seed; the time range is the
    ``bars`` argument). ``sequential_share``, ``paper_iterations``, ``onset_shift`` and
    ``pitches`` are for Python callers only (the API maps ``--density`` and ``--range``
    onto the last two); ``temperature``, ``prior`` and ``voice_leading_tries`` left ``None``
    are filled in from the style's ``style.json``.
    """

    schedule: ScheduleName = "default"
    temperature: float | None = None  # None: the style's calibrated temperature (style.json)
    strength: float = 1.0  # the share of the beats redrawn; the others keep the input's notes
    sweeps: int = 5  # blocked-Gibbs sweeps of the "default" schedule
    sequential_share: float = 0.02  # share of the frames then redrawn one at a time ("default")
    paper_iterations: int = 25  # iterations of the "paper" schedule
    seed: int | None = None
    prior: HarmonyPrior | None = None  # None: the network alone
    voice_leading_tries: int | None = None  # redraws of beats with parallels; None: the style's
    onset_shift: float = 0.0  # nats added to every onset logit: --density's lever (styletx.api)
    pitches: tuple[int, int] | None = None  # MIDI lo-hi (inclusive) the accompaniment may use; None: all

    def seed_streams(self) -> SeedStreams:
        """``seed``'s streams, spawned by numpy's ``SeedSequence`` so that none repeats another.

        Every call gives the same streams for a given seed; with ``seed=None`` each
        call draws fresh entropy.
        """
        return SeedStreams(*np.random.SeedSequence(self.seed).spawn(len(SeedStreams._fields)))

    def __post_init__(self) -> None:
        if self.schedule not in get_args(ScheduleName):
            raise ValueError(f"unknown schedule {self.schedule!r}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError("strength must be between 0 and 1")
        if self.temperature is not None and self.temperature <= 0:
            raise ValueError("temperature must be positive")
        if self.sweeps < 1:
            raise ValueError("sweeps must be at least 1")
        if self.pitches is not None and not 0 <= self.pitches[0] <= self.pitches[1] <= 127:
            raise ValueError(f"bad pitch range {self.pitches}")


DEFAULT_SETTINGS = SamplerSettings()

Progress = Callable[[int, int], None]
