"""Convert checkpoints to the format with architecture and training apart, once.

Before, ``config.json`` (the :class:`~styletx.model.config.ModelConfig`) also held
``style``, ``train_frame_fraction`` and ``class_weights``, and the network divided the
class weights out of its logits in eval mode only. Now:

* ``config.json`` holds the architecture alone;
* the calibration the old network applied at inference, ``- log(class_weights)``, is
  folded into the bias of its output layer (``head_out.bias``), so the network's logits
  are the same in training and evaluation mode;
* ``train.json``'s ``train_config`` is a :class:`~styletx.model.config.TrainConfig`:
  the grid fields it repeated (``steps_per_beat``, ``pitch_lo``, ``pitch_hi``, checked
  against ``config.json``) and the ``model`` overrides go, ``frame_fraction`` and
  ``class_weights`` come in from the old ``config.json``.

* ``style.json``'s three harmony-prior weights (``non_chord_prior``, ``bass_root_prior``,
  ``above_melody_prior``) become one ``prior`` object, a
  :class:`~styletx.model.settings.HarmonyPrior`.

A folder already in the new format is left alone, so running this twice changes
nothing. Afterwards the model cards are regenerated from the converted files.

    python benchmarks/convert_checkpoints.py [DIR ...]   (default: every shipped style)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from styletx.io.files import replace_file
from styletx.model.config import ModelConfig, TrainConfig
from styletx.stylefolder.format import (
    CONFIG_FILE,
    STYLE_INFO_FILE,
    TRAIN_RECORD_FILE,
    WEIGHTS_FILE,
    StyleInfo,
)
from styletx.stylefolder.installed import shipped_root, shipped_styles
from styletx.training.card import write_model_card

OLD_MODEL_KEYS = ("style", "train_frame_fraction", "class_weights")
GRID_KEYS = ("steps_per_beat", "pitch_lo", "pitch_hi")


OLD_PRIOR_KEYS = {"non_chord_prior": "non_chord", "bass_root_prior": "bass_root",
                  "above_melody_prior": "above_melody"}


def convert(directory: Path) -> bool:
    """Convert one checkpoint folder in place; returns whether it needed it."""
    changed = convert_style_info(directory)
    return convert_weights(directory) or changed


def convert_style_info(directory: Path) -> bool:
    """Nest ``style.json``'s harmony-prior weights into ``prior``; returns whether it did."""
    path = directory / STYLE_INFO_FILE
    info = json.loads(path.read_text()) if path.is_file() else {}
    if not OLD_PRIOR_KEYS.keys() & info.keys():
        return False
    info["prior"] = {new: info.pop(old) for old, new in OLD_PRIOR_KEYS.items() if old in info}
    StyleInfo.from_dict(info).save(directory)
    if (directory / TRAIN_RECORD_FILE).is_file():
        write_model_card(directory)
    return True


def convert_weights(directory: Path) -> bool:
    """Fold the old eval-mode calibration into the weights; returns whether it did."""
    old = json.loads((directory / CONFIG_FILE).read_text())
    if "class_weights" not in old:
        return False
    weights = old["class_weights"]
    # the very float32 tensor the old network subtracted in eval mode
    log_w = torch.tensor(weights, dtype=torch.float32).log()
    state = load_file(str(directory / WEIGHTS_FILE))
    state["head_out.bias"] = state["head_out.bias"] - log_w
    cfg = ModelConfig.from_dict({k: v for k, v in old.items() if k not in OLD_MODEL_KEYS})

    record_path = directory / TRAIN_RECORD_FILE
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        tc = dict(record["train_config"])
        for key in GRID_KEYS:
            if key in tc and tc.pop(key) != old[key]:
                raise SystemExit(f"{directory}: {TRAIN_RECORD_FILE}'s {key} disagrees with {CONFIG_FILE}")
        tc.pop("model", None)
        tc["frame_fraction"] = old["train_frame_fraction"]
        tc["class_weights"] = weights
        record["train_config"] = TrainConfig.from_dict(tc).to_dict()
        replace_file(record_path, json.dumps(record, indent=1))
    replace_file(directory / WEIGHTS_FILE, save(state))
    replace_file(directory / CONFIG_FILE, cfg.to_json())
    if record_path.is_file():
        write_model_card(directory)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="*", type=Path, help="checkpoint folders (default: the shipped styles)")
    args = ap.parse_args()
    dirs = args.dirs or [shipped_root() / name for name in shipped_styles()]
    for d in dirs:
        print(f"{d}: {'converted' if convert(d) else 'already in the current format'}")


if __name__ == "__main__":
    main()
