"""The music itself, with no file format and no network.

This subpackage owns the song data classes and the tempo, meter and key maps
(:mod:`~styletx.music.song`, :mod:`~styletx.music.timing`), the piano-roll grid and its
metadata (:mod:`~styletx.music.grid`), chords, keys and chord charts
(:mod:`~styletx.music.chords`, :mod:`~styletx.music.charts`), which part is the melody
(:mod:`~styletx.music.melody`, :mod:`~styletx.music.parts`), how a roll becomes
instrument parts (:mod:`~styletx.music.arrange`), length and stuck-note limits and the
voice-leading and key counts the sampler and the metrics share. It may import numpy
and :mod:`styletx.errors`; it never imports :mod:`styletx.io`, :mod:`styletx.score`,
music21, the model, torch, training or the application modules.
"""
