"""Regenerate the README's score picture: the first page of a lead sheet rendered as bossa.

Run ``python benchmarks/readme_score_page.py``. It renders music21's
``leadSheet/fosterBrownHair.mxl`` (a lead sheet with chord symbols, repeats and lyrics)
in the bossa style (seed 0) to MusicXML, has MuseScore 3 engrave it
(``QT_QPA_PLATFORM=offscreen mscore3 -o page.pdf out.musicxml``) and writes the first
page as ``docs/images/score-page1.png`` with ``pdftoppm``. Needs ``mscore3`` and
``pdftoppm`` (Debian's musescore3 and poppler-utils).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import transfer
from styletx.io.files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "score-page1.png"
DPI = 60


def main() -> int:
    from music21 import corpus

    src = Path(str(corpus.getWork("leadSheet/fosterBrownHair.mxl")))
    with tempfile.TemporaryDirectory() as tmp:
        score, pdf = Path(tmp) / "fosterBrownHair_bossa.musicxml", Path(tmp) / "page.pdf"
        transfer(src, "bossa", seed=0).write(score)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        subprocess.run(["mscore3", "-o", str(pdf), str(score)], env=env, check=True, capture_output=True)
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(Path(tmp) / "page")], check=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(OUT, (Path(tmp) / "page.png").read_bytes(), force=True)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
