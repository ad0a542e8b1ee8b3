"""The style registry: one recipe per shipped style, everything that *makes* the style.

A recipe names the training data, a data source of one of three kinds: Bach's chorales
from music21 (:class:`Chorales`), lead sheets played by MMA grooves, with the grooves
and tempi (:class:`MmaSpec`), or a folder of MIDI files (:class:`MidiFolder`, the source
of a user's own style, whose recipe is a :class:`UserRecipe`). A shipped recipe also
names the grid (steps per beat and
accompaniment pitch window), the output instruments, the sampling defaults, and the
provenance and licence the model card states. ``styletx data``, ``styletx train``,
the MMA corpus builder (:mod:`styletx.training.mma`), ``style.json`` and the model
card all read it from here. Rendering never does: a trained style's ``style.json``
and ``config.json`` hold all that rendering needs, so a user style has no recipe.

**Adding a style is one entry in** :data:`RECIPES`. ``tests/test_recipes.py``
checks that every shipped style has exactly one recipe and that the shipped
``style.json`` and ``config.json`` agree with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from styletx.errors import StyleTxError
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.settings import HarmonyPrior
from styletx.music.arrange import PartSpec

if TYPE_CHECKING:
    from styletx.stylefolder.format import StyleInfo

METER_NAMES = {4: "4/4", 3: "3/4", 6: "6/8"}
"""The meter of an MMA groove by its numerator (the 6/8 grooves count eighths)."""

CHUNK_BEATS = 16
"""Training chunk length in beats, whatever the grid resolution."""

_MMA_PROVENANCE = (
    "MMA {version} stdlib grooves (GPL, rule-based) rendering music21 public-domain melodies "
    "(Bach chorale sopranos with chordified harmony; O'Neill 1850 and Essen folk tunes with "
    "fitted chords)"
)
_MMA_LICENCE = (
    "**The training accompaniments are not human performances.** They are rule-based "
    "renderings by MMA (Musical MIDI Accompaniment, Debian package `mma`) of real melodies "
    "and real harmonies, the same approach as Groove2Groove's Band-in-a-Box data. The model "
    "learns MMA's grooves, not a jazz pianist. MMA and its groove library are GPL-licensed; "
    "the weights are trained on MMA's *output* (MIDI renderings), and we do not believe they "
    "are a derivative work of MMA's source, but treat them with that caution and keep the "
    "provenance with them. The melodies are public-domain tunes from the music21 corpus."
)


@dataclass(frozen=True)
class Chorales:
    """The music21 corpus's four-part Bach chorales: the soprano is the melody."""

    meters: tuple[str, ...] = ("4/4", "3/4")
    kind: ClassVar[str] = "chorales"

    def style_meters(self) -> tuple[str, ...]:
        return self.meters

    def baseline(self) -> dict[int, str]:
        """No MMA corpus, so no groove of its own for the evaluation's baseline."""
        return {}


@dataclass(frozen=True)
class MmaSpec:
    """How MMA renders a style's corpus from the lead sheets."""

    grooves: dict[int, tuple[str, ...]]  # meter numerator (4, 3, 6) -> MMA groove names
    tempo: dict[int, tuple[int, int]]  # meter numerator -> quarter-note BPM range
    pieces: int = 1000  # rendered pieces in the default build
    kind: ClassVar[str] = "mma"

    def style_meters(self) -> tuple[str, ...]:
        return tuple(METER_NAMES[m] for m in self.grooves)

    def baseline(self) -> dict[int, str]:
        """The first groove of each meter: the one the evaluation's MMA baseline plays."""
        return {meter: grooves[0] for meter, grooves in self.grooves.items()}


@dataclass(frozen=True)
class MidiFolder:
    """A folder of MIDI files, searched recursively (:func:`styletx.training.corpus.read_folder`).

    Each file's melody is chosen by the same rule as ``render``'s, or is ``melody_track``;
    every other pitched part is the accompaniment.
    """

    path: Path
    melody_track: int | str | None = None
    kind: ClassVar[str] = "folder"


DataSource = Chorales | MmaSpec | MidiFolder
"""Where a recipe's training data comes from."""


@dataclass(frozen=True)
class Recipe:
    """One style: its data, grid, instruments, sampling defaults and provenance."""

    name: str
    description: str  # one line, for ``styletx styles`` and the card
    data: Chorales | MmaSpec  # a shipped style's data (a user's folder has a UserRecipe)
    steps_per_beat: int
    # accompaniment pitch window of the model, MIDI [lo, hi); notes outside fold in by octaves
    pitch_lo: int
    pitch_hi: int
    max_transpose: int  # training transposes chunks by up to this many semitones
    instrumentation: tuple[PartSpec, ...]
    provenance: str  # ``{version}`` stands for the MMA version that rendered the corpus
    licence: str  # the card's licence paragraph (Markdown)
    chord_source: str  # where the training chords come from, for the card
    # the style.json fields that differ from StyleInfo's defaults: the bass line's ceiling,
    # the harmonic rhythm, and the sampling defaults (temperature, harmony priors,
    # voice-leading tries) tuned on the trained model
    style_fields: dict[str, Any] = field(default_factory=dict)
    # the evaluation's MMA baseline, per meter numerator; an MMA style's default is the
    # first groove of its corpus
    baseline_grooves: dict[int, str] = field(default_factory=dict)

    def baseline(self) -> dict[int, str]:
        """The one MMA groove per meter numerator that the evaluation's baseline plays."""
        return dict(self.baseline_grooves) or self.data.baseline()

    def style_meters(self) -> tuple[str, ...]:
        """The meters the style is trained on."""
        return self.data.style_meters()

    def model_config(self) -> ModelConfig:
        """The architecture of a new model of this style: the default network on its grid."""
        return ModelConfig(steps_per_beat=self.steps_per_beat, pitch_lo=self.pitch_lo,
                           pitch_hi=self.pitch_hi)

    def train_config(self) -> TrainConfig:
        """The training defaults of this style (the command line overrides them)."""
        return TrainConfig(style=self.name, chunk_frames=CHUNK_BEATS * self.steps_per_beat,
                           max_transpose=self.max_transpose)

    def style_info(self, mma_version: str) -> StyleInfo:
        """The ``style.json`` of a model trained from this recipe."""
        from styletx.stylefolder.format import StyleInfo

        info = StyleInfo(
            name=self.name, description=self.description,
            provenance=self.provenance.format(version=mma_version),
            meters=list(self.style_meters()), instrumentation=list(self.instrumentation),
            density_shifts=[list(p) for p in DENSITY_SHIFTS.get(self.name, ())], **self.style_fields,
        )
        return replace(info, chart_prior=chart_prior(info.prior))


def _mma(name: str, description: str, mma: MmaSpec, pitch_hi: int, comp: int, bass: int,
         sampling: dict[str, Any], steps_per_beat: int = 4) -> Recipe:
    """An MMA style: pitches from 31, a comping voice (GM program ``comp``) over a bass line."""
    return Recipe(
        name=name, description=description, data=mma, steps_per_beat=steps_per_beat, pitch_lo=31,
        pitch_hi=pitch_hi, max_transpose=2,
        instrumentation=(PartSpec("Comping", comp), PartSpec("Bass", bass, role="bass")),
        provenance=f"{description}; {_MMA_PROVENANCE}", licence=_MMA_LICENCE,
        chord_source="the MMA chart that was rendered (exact labels)", style_fields=sampling,
    )


# The MMA pitch windows reach the highest accompaniment note of the 1,000-piece seed-0
# build of each style (its manifest's accompaniment_pitch_range), except jazz's.
CLASH = 12.0
"""The clash cost of the MMA styles (issue #19), in nats: an accompaniment pitch a semitone (in
pitch class) from the sounding melody pitch. Their data rubs so, because MMA never looks at
the melody; only the pairings below, measured on 40 renderings per style by
``benchmarks/clash_exceptions.py`` (``docs/clash-exceptions.json``), are exempt. 6 nats left
bossa, pop and ragtime above the input's clash + 0.02 on the real bench (0.068, 0.065,
0.088 against inputs at 0.039); 12 brings them to 0.032, 0.030 and 0.048 with chord
agreement within 0.01 (``docs/quality-real-harmony.md``)."""
FOLK_COMPLETE = 4.0
"""Folk's chord-coverage bonus (:mod:`styletx.model.coverage`), in nats: its model plays half
bars as dyads (F-A for F), which the independent reader cannot name; 4 raised its chord
agreement on the real bench from 0.53 to 0.63 (music21 reader) and 0.85 to 0.86 (own)."""
CHART = {"non_chord": 12.0, "bass_root": 12.0, "complete": 12.0, "tacet": 4.0}
"""The least strengths (nats) of a shipped style's ``chart_prior``: the prior when the chords are
given (a score's symbols, ``--chords``). A chart is the player's instruction, so the root goes in
the bass at each half bar and change, each of the chord's tones sounds in each segment, few
tones fall outside it, and an ``N.C.`` (or the rests before the first symbol) lays out. One
rule for every style, chosen on ``benchmarks/leadsheet_chords.py`` (``docs/leadsheets.md``:
seeds 0 and 1; 20 nats cost groove, coverage without the melody's tones made jazz denser)."""


BLUE_THIRDS = tuple((quality, 3, 1) for quality in ("", "7", "maj7", "6"))
"""A chart's major-third chord keeps its third under a melody on the minor third, the blue note
(``(quality, melody degree, +1)``: the chord's third a semitone above the melody). The symbol
asks for the major chord; the tune bends its third against it ("Alexander's Ragtime Band" sings
A♭-A-A♭ over F), and without the exception the clash cost left F-C under it, an open fifth
that both readers hear as F minor."""


def chart_prior(prior: HarmonyPrior) -> HarmonyPrior:
    """``prior`` as a chart is followed: each of :data:`CHART`'s strengths at least that high,
    and the :data:`BLUE_THIRDS` among the clash cost's exceptions."""
    stronger = {k: max(getattr(prior, k), v) for k, v in CHART.items()}
    exceptions = (*prior.clash_exceptions, *(b for b in BLUE_THIRDS if b not in prior.clash_exceptions))
    return replace(prior, **stronger, clash_exceptions=exceptions)


MAJ7_RUB_UP = ("maj7", 11, 1)
"""A maj7 chord's root a semitone above a melody on its seventh."""
MAJ7_RUBS = (MAJ7_RUB_UP, ("maj7", 0, -1))
"""... and its seventh a semitone below a melody on its root."""
MINOR_OVER_NINTH = ("m", 2, 1)
"""A minor chord's third a semitone above a melody on its ninth (pop, ragtime)."""

DENSITY_SHIFTS: dict[str, tuple[tuple[float, float], ...]] = {
    # (onset ratio, onset-logit shift) of each shipped model, measured by
    # `benchmarks/controls_bench.py --calibrate --real 2 --bars 8` (2 real pieces, seed 0): where
    # a --density search starts (styletx.model.density.expected_shift)
    "bach": ((0.411, -6.0), (0.605, -4.0), (0.685, -3.0), (0.782, -2.0), (0.863, -1.5), (0.879, -1.0),
             (0.944, -0.5), (1.0, 0.0), (1.048, 0.5), (1.177, 1.0), (1.274, 1.5), (1.355, 2.0),
             (1.371, 3.0), (1.508, 4.0), (2.04, 6.0), (2.403, 8.0)),
    "jazz": ((0.376, -3.0), (0.72, -2.0), (0.728, -1.0), (0.832, -0.5), (1.0, 0.0), (1.144, 0.5),
             (1.384, 1.0), (1.568, 1.5), (1.752, 2.0), (2.072, 3.0), (2.808, 4.0)),
    "bossa": ((0.427, -3.0), (0.642, -2.0), (0.729, -1.5), (0.817, -1.0), (0.885, -0.5), (1.0, 0.0),
              (1.041, 0.5), (1.11, 1.0), (1.179, 1.5), (1.335, 2.0), (1.413, 3.0), (1.459, 4.0),
              (1.78, 6.0), (2.45, 8.0)),
    "pop": ((0.333, -3.0), (0.498, -2.0), (0.573, -1.5), (0.649, -1.0), (0.96, -0.5), (1.0, 0.0),
            (1.036, 0.5), (1.342, 1.0), (1.351, 1.5), (1.391, 2.0), (1.48, 3.0), (1.529, 4.0),
            (1.751, 6.0), (2.093, 8.0)),
    "folk": ((0.443, -3.0), (0.792, -2.0), (0.814, -1.5), (0.874, -1.0), (0.902, -0.5), (1.0, 0.0),
             (1.055, 1.0), (1.208, 1.5), (1.235, 3.0), (1.246, 4.0), (1.377, 6.0), (1.749, 8.0)),
    "ragtime": ((0.421, -6.0), (0.564, -4.0), (0.65, -3.0), (0.714, -2.0), (0.786, -1.5), (0.829, -1.0),
                (0.893, -0.5), (1.0, 0.0), (1.221, 0.5), (1.307, 1.0), (1.436, 1.5), (1.6, 2.0),
                (1.771, 3.0), (2.036, 4.0), (2.464, 6.0)),
}
"""The ``density_shifts`` of each shipped style's style card (#20 item 5)."""

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe(
        name="bach", description="Four-part chorale harmony (J. S. Bach)", data=Chorales(("4/4", "3/4")),
        steps_per_beat=4, pitch_lo=36, pitch_hi=84, max_transpose=6,
        instrumentation=(PartSpec("Strings", 48), PartSpec("Cello", 42, role="bass")),
        provenance="Bach's four-part chorales from the music21 corpus (public domain): soprano "
        "as melody, alto, tenor and bass as accompaniment; transposed in training",
        licence="Licence: the chorales are public domain; music21's corpus files are "
        "distributed with music21 (BSD licence). The weights are released with styletx (MIT).",
        chord_source="the four-part texture (one chord per beat, "
        "`styletx.music.chords.chord_track`)",
        # temperature 0.8 and a clash cost: the texture of real chorales (notes per beat, bass
        # register, parallels, clash; docs/quality-real-bach.md), where 0.6 was thin and high
        style_fields=dict(bass_max_pitch=57, harmonic_rhythm="beat", temperature=0.8,
                          prior=HarmonyPrior(non_chord=2.0, bass_root=3.0, clash=3.0),
                          voice_leading_tries=16),
        baseline_grooves={4: "Hymn"},  # no MMA corpus: MMA's four-part hymn groove, 4/4 only
    ),
    # 6 steps per beat, not 12: 6 holds swung and triplet eighths (step 4 of 6 is 2/3 of
    # the beat) at half the frames, and the sampler's cost grows with the frame count.
    # MMA's comping reaches 101, but 99.9 % of its notes are at or below 94 and the
    # generator's cost grows with the window: the window stops at 90.
    _mma("jazz", "Swung jazz comping and walking bass",
         MmaSpec(grooves={4: ("Swing", "SwingWalk", "JazzCombo", "Bebop", "Evansish", "SlowJazz",
                              "EasySwing"),
                          3: ("JazzWaltz", "JazzWaltz1", "ModernJazzWaltz"), 6: ("68Swing",)},
                 tempo={4: (90, 200), 3: (100, 180), 6: (90, 140)}),
         91, 0, 32, dict(prior=HarmonyPrior(non_chord=4.0, bass_root=4.0, above_melody=0.5, clash=CLASH,
                                          clash_exceptions=MAJ7_RUBS)),
         steps_per_beat=6),
    _mma("bossa", "Straight-eighth bossa nova guitar/piano comping and two-feel bass",
         MmaSpec(grooves={4: ("BossaNova", "BossaNovaPlus", "BossaNova1Sus"), 3: ("LatinWaltz",)},
                 tempo={4: (110, 150), 3: (110, 150)}),
         86, 24, 32, dict(prior=HarmonyPrior(non_chord=2.0, bass_root=2.0, above_melody=2.0, clash=CLASH,
                                          clash_exceptions=MAJ7_RUBS))),
    _mma("ragtime", "Stride-like oom-pah piano left hand (4/4 only)",
         MmaSpec(grooves={4: ("RagTime", "RagtimePlus")}, tempo={4: (80, 120)}),
         86, 0, 0, dict(prior=HarmonyPrior(non_chord=2.0, bass_root=2.0, clash=CLASH,
                                         clash_exceptions=(MINOR_OVER_NINTH, *MAJ7_RUBS)))),
    _mma("folk", "Strummed/arpeggiated acoustic guitar with simple bass",
         MmaSpec(grooves={4: ("Folk", "FolkWalk", "FolkArticulated", "FolkBallad"),
                          3: ("CountryWaltz", "CountryWaltz1"), 6: ("Arpeggio68",)},
                 tempo={4: (80, 130), 3: (90, 150), 6: (100, 150)}),
         83, 25, 32, dict(prior=HarmonyPrior(non_chord=2.0, bass_root=2.0, above_melody=1.0, clash=CLASH,
                                          clash_exceptions=(MAJ7_RUB_UP,), complete=FOLK_COMPLETE))),
    _mma("pop", "Pop/rock ballad piano, pads and electric bass",
         MmaSpec(grooves={4: ("PopBallad", "PopBallad1", "SoftRock", "8Beat", "PianoBallad"),
                          3: ("RockWaltz", "RockWaltz1")},
                 tempo={4: (70, 120), 3: (80, 140)}),
         83, 0, 33, dict(prior=HarmonyPrior(non_chord=2.0, bass_root=2.0, above_melody=1.0, clash=CLASH,
                                         clash_exceptions=(MINOR_OVER_NINTH, *MAJ7_RUBS)))),
)}


def recipe(name: str) -> Recipe:
    """The recipe of a shipped style.

    Raises
    ------
    StyleTxError
        For a name without a recipe, with the list of those that have one.
    """
    if name not in RECIPES:
        raise StyleTxError(f"no recipe for style {name!r}; styles that can be built and "
                           f"trained: {', '.join(RECIPES)}")
    return RECIPES[name]


def mma_specs() -> dict[str, MmaSpec]:
    """The MMA settings of the styles whose corpus MMA renders, by style name."""
    return {name: r.data for name, r in RECIPES.items() if isinstance(r.data, MmaSpec)}


@dataclass(frozen=True)
class UserRecipe:
    """A user's own style: its name, its data (a :class:`MidiFolder`) and how to train it.

    ``styletx train --recipe FILE`` reads one from a small JSON file; ``train --data DIR``
    is shorthand for a recipe of the folder ``DIR``. The recipe is saved in the style
    folder it makes, so the style says what made it. Fields left ``None`` are chosen from
    the data (the grid, fine-tuning from the nearest shipped style on small data).
    """

    name: str
    data: MidiFolder
    description: str = ""
    base: str | None = None  # fine-tune this style (``--from``)
    scratch: bool = False  # never fine-tune, however small the data
    steps_per_beat: int | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    max_steps_per_epoch: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    model: dict[str, Any] | None = None  # ModelConfig overrides of a model trained from scratch
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["data"] = {"kind": self.data.kind, **asdict(self.data), "path": str(self.data.path)}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], base_dir: Path = Path(".")) -> UserRecipe:
        """Inverse of :meth:`to_dict`; a relative data path is taken from ``base_dir``.

        Raises
        ------
        StyleTxError
            For unknown keys, a missing name or data, or data of another kind than a folder.
        """
        if not isinstance(d, dict):
            raise StyleTxError("a recipe is a JSON object")
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise StyleTxError(f"unknown recipe keys: {', '.join(unknown)}")
        data = d.get("data")
        if not isinstance(data, dict) or "path" not in data:
            raise StyleTxError('a recipe needs "data": {"kind": "folder", "path": "DIR"}')
        kind = data.get("kind", MidiFolder.kind)
        if kind != MidiFolder.kind:
            raise StyleTxError(f"recipe data of kind {kind!r}: a user recipe trains on a folder of "
                               f"MIDI files (kind {MidiFolder.kind!r}); the {Chorales.kind} and "
                               f"{MmaSpec.kind} sources are the shipped styles' (train --style NAME)")
        extra = sorted(set(data) - {"kind", "path", "melody_track"})
        if extra:
            raise StyleTxError(f"unknown recipe data keys: {', '.join(extra)}")
        if not d.get("name"):
            raise StyleTxError('a recipe needs a "name" (or give --style NAME)')
        folder = MidiFolder(base_dir / Path(data["path"]).expanduser(), data.get("melody_track"))
        return cls(**{**d, "data": folder})

    @classmethod
    def load(cls, path: Path, name: str | None = None) -> UserRecipe:
        """Read a recipe file (JSON); ``name`` (``--style``) overrides its name."""
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise StyleTxError(f"--recipe {path}: cannot read it ({e})") from e
        if isinstance(d, dict) and name:
            d["name"] = name
        try:
            return cls.from_dict(d, Path(path).parent)
        except StyleTxError as e:
            raise StyleTxError(f"--recipe {path}: {e}") from e
