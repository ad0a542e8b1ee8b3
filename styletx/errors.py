"""User-facing errors.

Anything the user can cause (bad file, unknown style, absurd length) raises
:class:`StyleTxError`; the CLI prints its message as one line and exits non-zero.
Any other exception is a bug in styletx.
"""


class StyleTxError(Exception):
    """A problem with the user's input or request, reported as one line."""


class BadMidiError(StyleTxError):
    """The input is not a usable MIDI file (corrupt, empty, drums only, too long, ...)."""


class NoMelodyError(StyleTxError):
    """No part of the input clearly carries a melody; name one (``--melody-track``) or take the
    skyline (``--melody skyline``). ``ranking`` holds each candidate's label and score."""

    def __init__(self, message: str, ranking: list[tuple[str, float]] | None = None) -> None:
        super().__init__(message)
        self.ranking = ranking or []
