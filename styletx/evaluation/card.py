"""The report card of one transfer: ``styletx eval IN OUT --style S`` and ``POST /v1/eval``.

One function, :func:`report_card`, reads the pair, scores the output beside the input
and the style's data, and returns JSON-ready data, so the CLI and the service answer
with the same figures.
"""

from __future__ import annotations

from typing import Any

from styletx.io.files import StrPath
from styletx.io.reader import read_midi
from styletx.model.settings import Progress
from styletx.music.parts import select_parts
from styletx.styles import Style


def report_card(
    src: StrPath, out: StrPath, style: Style, *, melody_track: int | str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score ``out``, a transfer of ``src`` into ``style``.

    Returns ``{"output": {...}, "input": {...}, "data": {...}}``: the model-free metrics
    of both files (:func:`~styletx.evaluation.metrics.transfer_metrics`), the output's
    ``style_prob`` when a style classifier is installed, both files' NLL under the
    style, and the style data's reference values (``data``, empty without a classifier).
    Metrics with nothing to measure are NaN.
    """
    from styletx.evaluation.bench import find_classifier
    from styletx.evaluation.metrics import model_nll, output_parts, piece_of, transfer_metrics

    song_in, song_out = read_midi(src), read_midi(out)
    parts_in = select_parts(song_in, melody_track)
    parts_out = output_parts(song_out, parts_in.melody)
    m = transfer_metrics(song_in, parts_in, song_out, parts_out)
    if progress:
        progress(1, 3)
    classifier = find_classifier()
    data: dict[str, float] = {}
    if classifier is not None:
        piece = piece_of(song_out, parts_out, like=piece_of(song_in, parts_in))
        m["output"]["style_prob"] = classifier.style_prob(piece, style.name)
        data = dict(classifier.info.get("reference", {}).get(style.name, {}))
    if progress:
        progress(2, 3)
    m["output"]["nll"] = model_nll(style, song_out, parts_out)
    m["input"]["nll"] = model_nll(style, song_in, parts_in)
    if progress:
        progress(3, 3)
    return {"output": m["output"], "input": m["input"], "data": data}
