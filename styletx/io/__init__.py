"""MIDI files in and out, in exact ticks.

This subpackage owns the Standard MIDI File parser (:mod:`~styletx.io.smf`), the
reader that turns a file into a :class:`~styletx.music.song.Song`
(:mod:`~styletx.io.reader`), the writer that turns one back into bytes
(:mod:`~styletx.io.writer`) and atomic, never-overwrite-the-input file writing
(:mod:`~styletx.io.files`). It may import :mod:`styletx.errors`, the data classes and
maps of :mod:`styletx.music`, mido and pretty_midi; it never imports torch, the model,
training or the application modules (``tests/test_layering.py`` checks).
"""
