"""The README's MuseScore picture: a score the plugin itself made, drawn by MuseScore, headless.

``python benchmarks/musescore_screenshot.py [--style jazz] [--score midi_samples/chorale_bwv254.mid]
[-o docs/musescore_plugin.png]`` installs the plugin into a temporary folder, runs it with
``mscore3 -p`` on the score (MuseScore opens it, the plugin exports it, restyles it and
opens the result as a new score titled "... (jazz)"), and keeps the top of the first page
that MuseScore drew of that new score.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from PIL import Image

from styletx.service.plugin import install_musescore_plugin, run_in_musescore

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="jazz")
    p.add_argument("--score", type=Path, default=ROOT / "midi_samples" / "chorale_bwv254.mid")
    p.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "musescore_plugin.png")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (plugin,) = install_musescore_plugin(Path(tmp), style=args.style)
        lines = run_in_musescore(plugin, args.score.resolve(), env={"PYTHONPATH": str(ROOT)})
        opened = re.match(r"opened (.+) as a new score", lines[-1] if lines else "")
        if not opened:
            print("\n".join(lines), file=sys.stderr)
            return 1
        result = Path(opened.group(1))
        drawn = Image.open(result.with_name(result.stem + "-1.png")).convert("RGBA")
        page = Image.alpha_composite(Image.new("RGBA", drawn.size, "white"), drawn).convert("RGB")
        top = page.crop((0, 0, page.width, page.height * 9 // 25))  # the title and first system
        top.thumbnail((1100, 1100))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        top.save(args.output, optimize=True)
        shutil.rmtree(result.parent, ignore_errors=True)
    print(f"wrote {os.path.relpath(args.output)}: {lines[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
