"""The style folder: the one owner of what a style is on disk, and where styles are installed.

This subpackage owns the folder's format (:mod:`~styletx.stylefolder.format`: every file
name, the format version written into the folder, :class:`~styletx.stylefolder.format.StyleInfo`,
the training record :class:`~styletx.stylefolder.format.TrainRecord`, and the reader and
writer of each file) and the lookup of installed styles (:mod:`~styletx.stylefolder.installed`:
``$STYLETX_MODELS``, the user styles folder, the shipped styles). It sits one floor below
both training (which writes style folders) and the application (which reads them), so
neither has to know the other. It may import :mod:`styletx.model`, :mod:`styletx.music`,
:mod:`styletx.io` and :mod:`styletx.errors`; never training, evaluation or the application
modules. It is torch-free on import: the network is loaded inside the reader.
"""
