"""Scores in and out: MusicXML and compressed MXL, read and written through music21.

This subpackage owns reading a score into a :class:`~styletx.music.song.Song`
(:mod:`~styletx.score.read`: the XML and zip guards, the melody as the score's own
notes, its chord symbols, title and composer), the one reader every entry point uses
for any supported file (:func:`~styletx.score.read.read_song`: MIDI or score, by
content), and writing a transfer as a score a notation program opens cleanly
(:mod:`~styletx.score.write`). It sits beside :mod:`styletx.io` and above it: it may
import :mod:`styletx.errors`, :mod:`styletx.io`, :mod:`styletx.music`, music21 and
defusedxml; it never imports torch, the model, training, evaluation or the
application modules (``tests/test_layering.py`` checks).
"""
