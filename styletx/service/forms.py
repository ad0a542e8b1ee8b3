"""The form fields of ``POST /v1/transfer``: ``styletx render``'s options, with its names and defaults.

The defaults are read from :class:`~styletx.model.settings.SamplerSettings`, as the CLI's
are, and the values go through :meth:`styletx.api.TransferOptions.replace`, whose checks
are the CLI's; ``tests/test_service.py`` compares the fields with ``render``'s parser.
``render`` options that name a server path or a server resource (``--style-dir``,
``--style-from``, ``--save-style``, ``-o``, ``--threads``, ``--device``, ``--force``) are
not offered, nor ``--variants`` (a response is one file): the service decides those,
and an unknown field is refused (422).
"""

from __future__ import annotations

from typing import Literal

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from styletx.api import TransferOptions
from styletx.errors import StyleTxError
from styletx.model.settings import SamplerSettings, ScheduleName
from styletx.styles import DEFAULT_STYLE

OutputFormat = Literal["mid", "musicxml", "mxl", "wav"]

OUTPUT_SUFFIX: dict[str, str] = {"mid": ".mid", "musicxml": ".musicxml", "mxl": ".mxl", "wav": ".wav"}
MEDIA_TYPE: dict[str, str] = {
    "mid": "audio/midi",
    "musicxml": "application/vnd.recordare.musicxml+xml",
    "mxl": "application/vnd.recordare.musicxml",
    "wav": "audio/wav",
}


class RenderForm(BaseModel):
    """``render``'s options (``--bars`` is ``bars``, ``--drop-drums`` is ``keep_drums=false``)."""

    model_config = ConfigDict(extra="forbid")

    file: UploadFile = Field(description="the input: MIDI, MusicXML or MXL")
    style: str = DEFAULT_STYLE
    seed: int | None = None
    temperature: float | None = SamplerSettings.temperature
    strength: float = SamplerSettings.strength
    sweeps: int = SamplerSettings.sweeps
    schedule: ScheduleName = SamplerSettings.schedule
    candidates: int = 1
    quantized: bool = False
    balance: float | None = None
    density: float = 1.0
    pitch_range: str | None = None  # render's --range
    bars: str | None = None
    chords: str | None = None
    reharmonize: bool = False
    melody_track: str | None = None
    keep_drums: bool = True
    format: OutputFormat = "mid"

    def options(self, seed: int) -> TransferOptions:
        """The :class:`TransferOptions` these fields mean, sampled with ``seed``.

        Raises
        ------
        StyleTxError
            A value ``styletx render`` refuses too, e.g. ``strength=2``, or ``chords``
            together with ``reharmonize``.
        """
        if self.chords is not None and self.reharmonize:
            raise StyleTxError("chords and reharmonize exclude each other (as --chords and "
                               "--reharmonize do)")
        track = self.melody_track
        return TransferOptions(
            melody_track=int(track) if track is not None and track.isdigit() else track,
            keep_drums=self.keep_drums, bars=self.bars, chords=self.chords,
            reharmonize=self.reharmonize, candidates=self.candidates,
            quantized=self.quantized, balance=self.balance, density=self.density,
            pitch_range=self.pitch_range,
        ).replace(seed=seed, temperature=self.temperature, strength=self.strength,
                  sweeps=self.sweeps, schedule=self.schedule)


class EvalForm(BaseModel):
    """``styletx eval IN OUT --style S``'s options."""

    model_config = ConfigDict(extra="forbid")

    input: UploadFile = Field(description="the input file")
    output: UploadFile = Field(description="a transfer of it")
    style: str
    melody_track: str | None = None
