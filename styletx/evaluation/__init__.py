"""Measuring a transfer: the metrics, the benchmark, the MMA baseline and the style classifier.

This subpackage owns ``styletx eval``: metrics computed from their definitions on a
fine time grid (:mod:`~styletx.evaluation.metrics`), the benchmark over held-out pieces
(:mod:`~styletx.evaluation.bench`), the chord-detection-plus-MMA-groove baseline
(:mod:`~styletx.evaluation.baseline`) and the style classifier
(:mod:`~styletx.evaluation.styleclass`). It may import every layer below the CLI,
including :mod:`styletx.api` (the benchmark transfers pieces as a user would) and
:mod:`styletx.training` (the held-out splits); nothing on the render path imports it.
"""
