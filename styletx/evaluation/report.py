"""The report card of one transfer (``styletx eval IN.mid OUT.mid --style S``), as data.

:func:`report_card` reads a pair of files and scores the output beside its input and the
style's training data; the :class:`ReportCard` it returns serialises to JSON
(:meth:`~ReportCard.to_dict`), formats as text and draws as a PNG, so the CLI, a
service or a notebook give the same answer.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from styletx.evaluation.bench import find_classifier, finite, score_transfer
from styletx.evaluation.metrics import format_report, model_nll, plot_report
from styletx.io.files import StrPath
from styletx.model.settings import Progress
from styletx.music.parts import select_parts
from styletx.score.read import read_song
from styletx.styles import Style, load_style


@dataclass(frozen=True)
class ReportCard:
    """One transfer's metrics: the output's, the input's and the style data's."""

    input_file: str
    """The input's path (``"input"`` when it was given as bytes)."""
    output_file: str
    style: str
    output: dict[str, float]
    """Every metric of the output (:data:`~styletx.evaluation.metrics.METRICS`)."""
    input: dict[str, float]
    """The same metrics of the input, where comparing with it means something."""
    data: dict[str, float]
    """The style's training data (the classifier's reference); empty without a classifier."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, NaN as null (``eval --json``)."""
        return finite(asdict(self))

    def text(self) -> str:
        """One line per metric, the comparison beside it and what good looks like."""
        return format_report(self.output, {"input": self.input, "data": self.data},
                             title=f"{self.output_file} against {self.input_file} ({self.style})")

    def plot(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Draw the card into a PNG, atomically; never over the two MIDI files."""
        return plot_report(self.output, {"input": self.input, "data": self.data}, path,
                           title=f"{Path(self.output_file).name} ({self.style})", force=force,
                           protect=[self.input_file, self.output_file])


def report_card(
    input_file: StrPath | bytes,
    output_file: StrPath | bytes,
    style: str | Style,
    *,
    melody_track: int | str | None = None,
    progress: Progress | None = None,
) -> ReportCard:
    """Score ``output_file``, a transfer of ``input_file`` into ``style`` (a name, a folder
    path or a loaded :class:`Style`). The files are MIDI files or scores, as paths or their
    bytes (:func:`~styletx.score.read.read_song`).

    The input's melody is chosen as ``render`` chose it (or ``melody_track``) and found
    again among the output's parts. The files are read before the style loads, so a bad
    file costs no time. ``progress`` is called with ``(done, 3)``.

    Raises
    ------
    StyleTxError
        A file cannot be read, the input has no clear melody, or the style is unknown.
    """
    song_in, song_out = read_song(input_file), read_song(output_file)
    parts_in = select_parts(song_in, melody_track)
    style = style if isinstance(style, Style) else load_style(style)
    if progress:
        progress(1, 3)
    classifier = find_classifier()
    m = score_transfer(song_in, parts_in, song_out, style, classifier)
    if classifier is None:
        del m["output"]["style_prob"]  # no classifier: nothing to say, rather than n/a
    data = dict(classifier.info.get("reference", {}).get(style.name, {})) if classifier else {}
    if progress:
        progress(2, 3)
    m["input"]["nll"] = model_nll(style, song_in, parts_in)
    if progress:
        progress(3, 3)
    return ReportCard(song_in.source or "input", song_out.source or "output", style.name,
                      m["output"], m["input"], data)
