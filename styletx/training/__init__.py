"""Everything that makes a style, kept off the render path.

This subpackage owns the style recipes (:mod:`~styletx.training.recipes`, the one
registry of what defines each shipped style), the corpora (music21's chorales, MMA
renderings of real lead sheets, a user's own folder), their splits, the training
loop, writing checkpoints and the model cards.
Nothing in rendering imports it, so a user who only renders never loads it. It may
import :mod:`styletx.io`, :mod:`styletx.score` (a user's scores), :mod:`styletx.music`,
:mod:`styletx.model`, :mod:`styletx.stylefolder` (to write a style folder), :mod:`styletx.paths` and
:mod:`styletx.errors`; never the API, the batch runner or the CLI.
"""
