"""Model cards: the style folder's card, rendered from what the training run recorded.

The card is generated, never hand-edited, so its numbers are the ones in the
:class:`~styletx.stylefolder.format.TrainRecord` (data, split, command, seed, time,
held-out metrics, the styletx version that trained it), the architecture and the style
card beside it, plus the transfer evaluation when ``benchmarks/eval_styles.py`` has
been run. The licence and
chord source of a shipped style come from its recipe (:mod:`styletx.training.recipes`),
those of a user style from its data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import safe_open

from styletx.stylefolder.format import StyleFolder, TrainRecord
from styletx.training.recipes import recipe


def _fmt(x: object) -> str:
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def _count_parameters(weights: Path) -> int:
    """Number of values stored in a safetensors file (its header lists every tensor's shape)."""
    if not weights.exists():
        return 0
    with safe_open(str(weights), framework="numpy") as f:
        return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())


def model_card(directory: Path) -> str:
    """The Markdown text of a style's model card."""
    folder = StyleFolder(directory)
    record = folder.read_record()
    cfg = folder.read_config()
    info = folder.read_info()
    tc = record.train_config
    test = record.test_metrics or {}
    n_params = _count_parameters(folder.weights)
    user = record.user_data
    examples = record.examples  # a style adapted to a few files (render --style-from)
    # a user style is described by its data; a shipped one by its recipe
    style_recipe = None if user or examples else recipe(info.name)
    chord_source = (style_recipe.chord_source if style_recipe else
                    "the files' full texture (estimated, `styletx.music.chords.chord_track`)")
    lines = [
        f"# styletx model card: `{info.name}`",
        "",
        f"{info.description}.",
        "",
        "## Data",
        "",
        f"- Source: {info.provenance}.",
    ]
    if user:
        lines += _user_data_lines(record)
    elif examples:
        lines += [f"- Examples: {', '.join(examples)}; fine-tuned from `{record.base_style}` "
                  "(`styletx render --style-from`).",
                  "- Licence: whatever the examples' own licence is; the weights derive from them."]
    else:
        lines += ["", style_recipe.licence]
    split_rule = (
        "By file: the split of a file is a function of the SHA-1 of its bytes (`styletx/training/splits.py` "
        "on the hash; 8 = valid, 9 = test), with at least one valid file from 2 files and one "
        "test file from 5; the file lists are in the style folder."
        if user else
        "Piece-level and fixed: the split of a piece is a function of its source melody id "
        "(`styletx/training/splits.py`: SHA-1 of the id modulo 10; 8 = valid, 9 = test), so every "
        "transposition and rendering of one melody stays in one split.")
    lines += [
        "",
        "## Split",
        "",
        split_rule,
        "",
        "| split | pieces | distinct melodies | frames |",
        "|---|---|---|---|",
    ]
    for name in ("train", "valid", "test"):
        d = record.data[name]
        lines.append(f"| {name} | {d['pieces']} | {d['sources']} | {d['frames']} |")
    test_ids = record.test_pieces
    label = "Test melodies"
    splits = folder.read_splits() if user else None
    if splits is not None:
        test_ids = [f["file"] for f in splits["test"]]
        label = "Test files"
    lines += ["", f"{label} ({len(test_ids)}): " + ", ".join(test_ids[:60])
              + (" …" if len(test_ids) > 60 else ""), ""]
    lines += [
        "## Model",
        "",
        f"- Grid: {cfg.steps_per_beat} steps per quarter note; accompaniment pitches "
        f"{cfg.pitch_lo}–{cfg.pitch_hi - 1} (MIDI), cell states off / onset / hold.",
        f"- Encoder: two {cfg.lstm_layers}-layer LSTMs of {cfg.lstm_hidden} (past, reversed future); "
        f"generator: gated dilated causal convolutions over pitch, {cfg.gen_channels} channels, "
        f"dilations {list(cfg.gen_dilations)}.",
        "- Inputs per frame: the melody, the chord (root and quality; a per-pitch flag marks "
        "the chord's tones and root for the generator), step in beat and bar, key and bar "
        f"length. Chords come from {chord_source}; "
        f"{tc.chord_dropout:.0%} of training chunks see no chords, so the model can also "
        "harmonise.",
        f"- Parameters: {n_params:,}; loss: cross-entropy with class weights "
        f"{list(tc.class_weights)} (off, onset, hold), taken on the logits plus the "
        "weights' logs, so that the logits themselves are calibrated (logit adjustment).",
        f"- Trained on random chunks with masked spans (in {tc.mask_prob:.0%} of chunks, "
        f"up to {tc.max_span_beats} beats hidden from the context) so that it can "
        "refill the blocks the sampler redraws.",
        "",
        "## Training",
        "",
        *[f"- Command: `{c}`" for c in record.commands or [record.command]],
        f"- Seed: {tc.seed}; chunks of {tc.chunk_frames} frames, batch {tc.batch_size}, "
        f"AdamW lr {tc.lr}, random transposition within ±{tc.max_transpose} semitones "
        "keeping the accompaniment in range; early stopping on validation NLL "
        f"(patience {tc.patience}).",
        f"- Epochs run: {len(record.history)}, stopped by "
        + (f"the {tc.max_minutes:g}-minute time budget"
           if tc.max_minutes and record.train_seconds >= tc.max_minutes * 60
           else "early stopping" if len(record.history) < tc.epochs else "the epoch limit")
        + f"; the best validation epoch was {record.best_epoch()}.",
        f"- Wall time {record.train_seconds / 60:.1f} min on "
        f"{record.device or 'an unrecorded device'} (torch {record.torch}, "
        f"{record.threads} CPU threads), shared with other trainings while it ran.",
        f"- Trained with styletx {record.styletx_version or '(version not recorded)'}.",
        "",
        "## Held-out metrics (test split, teacher-forced)",
        "",
        "| metric | value |",
        "|---|---|",
        f"| NLL per cell (nats) | {_fmt(test.get('nll_per_cell'))} |",
        f"| onset-cell accuracy | {_fmt(test.get('onset_accuracy'))} |",
        f"| predicted onsets in key | {_fmt(test.get('pred_onsets_in_key'))} |",
        f"| true onsets in key (data) | {_fmt(test.get('true_onsets_in_key'))} |",
        "",
    ]
    ev = folder.read_eval()
    if ev is not None:
        lines += [
            "Scored again by `benchmarks/eval_styles.py` on the test split: *frame* is the "
            "one-frame conditional above (the neighbouring frames nearly give a held note "
            "away, so it is easy); *block* hides every other bar from the context and scores "
            "those bars, as the block sampler redraws them.",
            "",
            "| condition | NLL per cell | onset accuracy | predicted onsets in key |",
            "|---|---|---|---|",
            *[f"| {kind} | {_fmt(m['nll_per_cell'])} | {_fmt(m['onset_accuracy'])} | "
              f"{_fmt(m['pred_onsets_in_key'])} |" for kind, m in ev["held_out"].items()],
            "",
        ]
        lines += [
            "## Transfer evaluation",
            "",
            f"{ev['description']}",
            "",
            "| measure | training data | transfer output |",
            "|---|---|---|",
        ]
        for key, label in (("notes_per_beat", "notes per beat"), ("in_key", "onsets in key"),
                           ("polyphony", "mean polyphony")):
            lines.append(f"| {label} | {_fmt(ev['data'][key])} | {_fmt(ev['output'][key])} |")
        lines.append("| onset position in beat | "
                     + " ".join(f"{x:.2f}" for x in ev["data"]["onset_hist"]) + " | "
                     + " ".join(f"{x:.2f}" for x in ev["output"]["onset_hist"]) + " |")
        lines.append("")
    lines += [
        "## Sampling defaults (the style card)",
        "",
        f"- Temperature {info.temperature:g}; chords estimated per {info.harmonic_rhythm.replace('_', ' ')}.",
        f"- Harmony prior: {info.prior.non_chord:g} logits against onsets outside the chord; "
        f"±{info.prior.bass_root / 2:g} for the root / any other pitch as the lowest note at a "
        f"chord segment's start; {info.prior.above_melody:g} against onsets above the melody "
        "(`styletx.model.settings.HarmonyPrior`).",
        f"- Voice-leading redraws of beats with parallel fifths or octaves: {info.voice_leading_tries}.",
        "- Transfer quality beside the MMA baseline (chord agreement, bass, groove, texture, "
        "parallels, style resemblance): `docs/quality.md`, regenerated by "
        f"`styletx eval --bench {info.name}`.",
        "",
        *_feel_lines(folder),
        "## Output instrumentation",
        "",
        *[f"- {p.name}: General MIDI program {p.program}"
          + (f", the lowest line (notes up to MIDI {info.bass_max_pitch} that are lowest at their onset)"
             if p.role == "bass" else ", everything else")
          for p in info.instrumentation],
        "",
        "## Limits",
        "",
        f"- Trained on meters {', '.join(info.meters)}; other meters run but are out of distribution.",
        "- One model per style; no style mixing.",
        "",
    ]
    return "\n".join(lines)


def _feel_lines(folder: StyleFolder) -> list[str]:
    """The performance feel (``styletx.music.performance``), or the grid for a folder without one."""
    feel = folder.read_feel()
    text = (feel.summary() if feel else "none: every note on the grid at one velocity per piece")
    return ["## Feel (velocity, timing and length)", "",
            f"- {text}; `--quantized` turns it off, `--balance V` sets the gap under the melody.", ""]


def _user_data_lines(record: TrainRecord) -> list[str]:
    """The data section of a user style's card (``styletx train --data``)."""
    d = record.user_data or {}
    base = record.base_style
    meters = ", ".join(f"{m} ({n} files)" for m, n in d["meters"].items()) or "none"
    lines = [
        f"- Folder: `{d['folder']}`; {d['files_used']} files used, {d['files_skipped']} skipped.",
        f"- Meters: {meters}.",
        f"- {d['beats']:.0f} beats of music; per beat {d['accompaniment_notes_per_beat']:.2f} "
        f"accompaniment notes and {d['melody_notes_per_beat']:.2f} melody notes.",
        f"- Grid: {d['steps_per_beat']} steps per beat ({d['steps_reason']}).",
        "- Melody: chosen per file by the same rule as `render` (or `--melody-track`); every "
        "other pitched part is the accompaniment; drums are left out. Key and chords are "
        "estimated from the notes.",
        f"- Base model: {'`' + base + '`, fine-tuned' if base else 'none, trained from scratch'}"
        + (f" ({record.base_note})" if record.base_note else "") + ".",
        f"- Finished: {record.finished or '?'}.",
        "- Licence: whatever the files' own licence is; the weights derive from them.",
    ]
    if d["skipped"]:
        lines += ["", "Skipped files:", ""]
        lines += [f"- `{k['file']}`: {k['reason']}" for k in d["skipped"][:40]]
        if len(d["skipped"]) > 40:
            lines.append(f"- … and {len(d['skipped']) - 40} more")
    return lines


def write_model_card(directory: Path) -> Path:
    """Write the model card into a style folder; returns its path."""
    return StyleFolder(directory).write_card(model_card(directory))
