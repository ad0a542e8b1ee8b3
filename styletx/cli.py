"""The ``styletx`` command line.

Each subcommand is registered by one ``_add_<name>(subparsers)`` function
listed in :data:`COMMANDS`; it sets ``func`` to a handler that takes the parsed
arguments and returns the exit status. :func:`main` turns every failure into
one line on stderr: user errors (:class:`StyleTxError`) exit 2, Ctrl-C exits
130, anything else is a bug and exits 1 (``STYLETX_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from styletx import __version__
from styletx.diagnostics import WarningCollector, collect_warnings
from styletx.errors import StyleTxError
from styletx.model.settings import SamplerSettings, ScheduleName
from styletx.music.parts import SKYLINE
from styletx.progress import progress_bar
from styletx.score.read import MUSICXML_SUFFIXES

if TYPE_CHECKING:
    from styletx.api import TransferOptions

Subparsers = Any  # argparse's _SubParsersAction is private


def melody_track_arg(text: str) -> int | str:
    """Parse ``--melody-track``: a number is a part index, anything else a part name."""
    return int(text) if text.isdigit() else text


# --------------------------------------------------------------------------- info


def _subcommand(subparsers: Subparsers, name: str, run: Callable[[argparse.Namespace], int],
                **texts: str) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` (``help=``, ``description=``); ``run`` handles its arguments."""
    p = subparsers.add_parser(name, **texts)
    p.set_defaults(func=run)
    return p


def _add_info(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "info", _run_info,
        help="show a MIDI file's or score's parts, chosen melody, tempo, meter, key and chords",
        description="Show the parts of a MIDI file or MusicXML score, which one styletx takes "
        "as the melody and why, its tempo, time-signature and key maps, and a score's chord symbols.",
    )
    p.add_argument("files", nargs="+", metavar="file", help="MIDI file(s) (.mid) or scores (.musicxml, .mxl)")
    add_melody_args(p)
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of text (a list when several files are given)")


def add_melody_args(p: argparse._ActionsContainer) -> None:
    """``--melody-track X`` and ``--melody skyline`` (both set ``melody_track``)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--melody-track", type=melody_track_arg, metavar="X",
                       help="part index or name of the melody (default: chosen by score, "
                       "see `styletx info`)")
    group.add_argument("--melody", choices=[SKYLINE], dest="melody_track",
                       help="'skyline': the highest note at each onset of all parts together "
                       "is the melody")


def add_style_dir_arg(group: argparse._MutuallyExclusiveGroup) -> None:
    """``--style-dir DIR``, beside ``--style NAME`` in ``group`` (one or the other)."""
    group.add_argument("--style-dir", metavar="DIR", default=None,
                       help="a style folder (weights + model config) instead of an "
                       "installed style's name; --style ./DIR does the same")


def style_arg(args: argparse.Namespace) -> str:
    """The style ``load_style`` gets: ``--style-dir`` as a path, else ``--style`` or the default style.

    ``--style-dir jazz`` must mean the folder even without a separator, so it is
    made absolute (a bare name is always an installed style, see ``styles.style_directory``).
    """
    if args.style_dir:
        return str(Path(args.style_dir).absolute())
    from styletx.styles import DEFAULT_STYLE

    return args.style or DEFAULT_STYLE


def format_info(info: dict[str, Any]) -> str:
    """Render :func:`styletx.describe.describe`'s result as text for a terminal."""
    pickup = ", starting with a pickup bar" if info["pickup"] else ""
    kind = ("a score" if Path(info["file"] or "").suffix.lower() in MUSICXML_SUFFIXES
            else f"MIDI type {info['midi_type']}")
    lines = [
        f"{info['file']}: {kind}, {info['resolution']} ticks per quarter",
        *([f"title: {info['title']}" + (f", by {info['composer']}" if info["composer"] else "")]
          if info["composer"] or kind == "a score" else []),
        *(f"note: {n}" for n in info["read_notes"]),
        f"length: {info['duration_seconds']:.2f} s, {info['bars']} bars{pickup}",
        "",
        f"{'part':>4}  {'name':<20} {'ch':>3}  {'instrument':<26} {'notes':>6} {'poly':>4}  role",
    ]
    for t in info["tracks"]:
        channel = "" if t["channel"] is None else t["channel"] + 1
        instrument = t["instrument"] if t["is_drum"] else f"{t['program']} {t['instrument']}"
        lines.append(f"{t['index']:>4}  {t['name'][:20]:<20} {channel:>3}  {instrument[:26]:<26} "
                     f"{t['notes']:>6} {t['max_polyphony']:>4}  {t['role']}")
    if info["lyrics"]:
        lines += ["", f"lyrics: {info['lyrics']} lyric events (a part that sings them is likely "
                      "the melody)"]
    if info["melody"]["index"] is None:
        lines += ["", f"melody: none: {info['melody']['reason']}", ""]
    else:
        lines += ["", f"melody: {info['melody']['reason']}", ""]
    if info["chord_symbols"]:
        lines += ["chord symbols (the chart the accompaniment follows): "
                  + " ".join(f"{c['bar']}:{c['symbol']}" for c in info["chord_symbols"]), ""]
    if info["chords"]:
        lines += [f"chords (per {info['chords_per'].replace('_', ' ')}): {info['chords']}", ""]
    for title, key, value, default in (
        ("tempo", "tempos", lambda e: f"{e['bpm']:g} bpm", "120 bpm (the MIDI default)"),
        ("meter", "time_signatures", lambda e: f"{e['numerator']}/{e['denominator']}",
         "4/4 (the MIDI default)"),
        ("key", "key_signatures", lambda e: e["key"], "not given"),
    ):
        events = info[key]
        if not events:
            lines.append(f"{title}: {default}")
            continue
        lines.append(f"{title}:")
        lines += [f"  bar {e['bar']:>3}  tick {e['tick']:>7}  {e['seconds']:>8.2f} s  {value(e)}"
                  for e in events]
    return "\n".join(lines)


def _run_info(args: argparse.Namespace) -> int:
    from styletx.describe import describe_file

    reports: list[dict[str, Any]] = []
    failures = 0
    for i, path in enumerate(args.files):
        try:
            info = describe_file(path, args.melody_track)
        except StyleTxError as e:
            if len(args.files) == 1:
                raise
            failures += 1
            print(f"styletx: error: {_one_line(e)}", file=sys.stderr)
            continue
        if args.json:
            reports.append(info)
        else:
            print(("\n" if i else "") + format_info(info))
    if args.json:
        print(json.dumps(reports[0] if len(args.files) == 1 else reports, indent=2))
    return 2 if failures else 0


# ------------------------------------------------------------------------- render


def _add_render(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "render", _run_render,
        help="rewrite the accompaniment of MIDI files in a style",
        description="Keep the melody of each input note for note and resample its "
        "accompaniment under a style model (Lu & Su's Algorithm 1).",
    )
    p.add_argument("inputs", nargs="+", help="input MIDI file(s) or MusicXML/MXL score(s)")
    p.add_argument("-o", "--output", required=True,
                   help="output file (one input) or folder (several inputs, or ending in /)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--style", default=None,
                       help="style name (see `styletx styles`; default bach); with --style-from, "
                       "the style to adapt instead of the nearest one")
    add_style_dir_arg(which)
    few = p.add_argument_group("few-shot: adapt a style to examples")
    few.add_argument("--style-from", nargs="+", metavar="EX.mid", default=None,
                     help="fine-tune the nearest shipped style on these example files, then "
                     "render with it (put -o before or after, not between, the examples and "
                     "the inputs)")
    few.add_argument("--save-style", metavar="NAME",
                     help="keep the adapted model as the user style NAME")
    few.add_argument("--adapt-seconds", type=float, default=None,
                     help="time budget of the adaptation, choice of the base style included "
                     "(default 40)")
    few.add_argument("--adapt-steps", type=int, default=None,
                     help="at most this many fine-tuning steps (default: as many as the time allows)")
    add_sampling_args(p)
    p.add_argument("--bars", help="only change these bars, e.g. 5-12 (1-based, inclusive)")
    harmony = p.add_mutually_exclusive_group()
    harmony.add_argument("--chords", metavar="CHART",
                         help="the chords to follow, bar by bar, e.g. 'C | Am7 | Dm7 G7 | C' "
                         "(default: a score's chord symbols, else estimated from the input)")
    harmony.add_argument("--reharmonize", action="store_true",
                         help="let the model choose its own chords instead of the song's")
    p.add_argument("--print-chords", action="store_true",
                   help="print the chord chart the accompaniment follows")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed = same bytes)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--force", action="store_true", help="replace existing outputs")
    p.add_argument("--wav", action="store_true",
                   help="also write a WAV preview beside each output (needs tinysoundfont)")


def add_sampling_args(p: argparse.ArgumentParser) -> None:
    """The transfer options ``render`` and ``batch`` share: melody, sampler, drums, device."""
    add_melody_args(p)
    p.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature (default: the style's, see `styletx styles`)")
    p.add_argument("--strength", type=float, default=SamplerSettings.strength,
                   help="share of the accompaniment's beats to redraw: 0 keeps it all, 1 redraws it all "
                   "(default %(default)s)")
    p.add_argument("--sweeps", type=int, default=SamplerSettings.sweeps,
                   help="parallel Gibbs sweeps (default %(default)s)")
    p.add_argument("--schedule", choices=get_args(ScheduleName), default="default",
                   help="'paper' = Lu & Su's 25 argmax iterations (slow baseline)")
    p.add_argument("--candidates", type=int, default=1, metavar="N",
                   help="draw N accompaniments and keep the one the critic scores best (chord fit, "
                   "clash, groove; styletx/music/critic.py); N times the time (default %(default)s)")
    p.add_argument("--quantized", action="store_true",
                   help="the style's feel off: one velocity, every note on the grid")
    p.add_argument("--balance", type=float, default=None, metavar="V",
                   help="the accompaniment's gap under the melody, in MIDI velocity (default: the style's)")
    controls = p.add_argument_group("controls")
    controls.add_argument("--density", type=float, default=1.0, metavar="X",
                          help="onsets per beat as X times the style's default, 0.5-2.0 (default 1)")
    controls.add_argument("--range", dest="pitch_range", default=None, metavar="LOW-HIGH",
                          help="keep the accompaniment within these MIDI pitches, e.g. 36-83")
    controls.add_argument("--variants", type=int, default=1, metavar="N",
                          help="write N alternatives OUT_1 ... OUT_N, ranked by the critic, each the "
                          "best of --candidates draws (default 1)")
    drums = p.add_mutually_exclusive_group()
    drums.add_argument("--keep-drums", dest="keep_drums", action="store_true", default=True,
                       help="copy the input's drum tracks (default)")
    drums.add_argument("--drop-drums", dest="keep_drums", action="store_false",
                       help="leave the input's drums out")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")


def transfer_options(args: argparse.Namespace, **fields: Any) -> TransferOptions:
    """Map the flags of :func:`add_sampling_args` (and ``--seed``), plus ``fields``, onto
    :class:`styletx.api.TransferOptions`, the API's one input."""
    from styletx.api import TransferOptions

    return TransferOptions(melody_track=args.melody_track, keep_drums=args.keep_drums,
                           candidates=args.candidates, quantized=args.quantized,
                           balance=args.balance, density=args.density,
                           pitch_range=args.pitch_range, variants=args.variants, **fields).replace(
        seed=args.seed, temperature=args.temperature, strength=args.strength,
        sweeps=args.sweeps, schedule=args.schedule)


def render_targets(inputs: Sequence[str], output: str) -> list[tuple[Path, Path]]:
    """Pair each input with its output path; several inputs need an output folder."""
    out = Path(output)
    as_dir = len(inputs) > 1 or output.endswith(("/", os.sep)) or out.is_dir()
    if not as_dir:
        return [(Path(inputs[0]), out)]
    return [(Path(i), out / (Path(i).stem + ".mid")) for i in inputs]


def _run_render(args: argparse.Namespace) -> int:
    from styletx.api import render_variants
    from styletx.styles import load_style

    if args.style_from:
        if args.style_dir:
            raise StyleTxError("--style-from adapts an installed style: give it --style, not --style-dir")
        style = _adapted_style(args)
    else:
        if args.save_style or args.adapt_seconds is not None or args.adapt_steps is not None:
            raise StyleTxError("--save-style, --adapt-seconds and --adapt-steps go with --style-from")
        style = load_style(style_arg(args), device=args.device)
    options = transfer_options(args, bars=args.bars, chords=args.chords,
                               reharmonize=args.reharmonize, threads=args.threads)
    failures = 0
    for src, dst in render_targets(args.inputs, args.output):
        dst.parent.mkdir(parents=True, exist_ok=True)
        with progress_bar(f"{src.name} → {style.name}") as bar:
            try:
                written = render_variants(src, dst, style, options, force=args.force, progress=bar)
                result = written[0][1].result
                for path, variant in written if args.wav else []:
                    variant.result.write(path.with_suffix(".wav"), force=args.force)
            except StyleTxError as e:
                if len(args.inputs) == 1:
                    raise
                failures += 1
                print(f"styletx: error: {src}: {_one_line(e)}", file=sys.stderr)
                continue
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.print_chords:
            print(f"chords: {result.chart}")
        for path, variant in written:
            scores = f": {variant.line()}" if len(written) > 1 else ""
            print(f"wrote {path}{' and its .wav' if args.wav else ''} "
                  f"({variant.result.seconds:.2f} s){scores}")
    return 2 if failures else 0


def _adapted_style(args: argparse.Namespace) -> Any:
    """``--style-from``: adapt the nearest shipped style (or ``--style``) to the examples."""
    from styletx.training.own import adapt_style

    adapted = adapt_style(args.style_from, base=args.style, seconds=args.adapt_seconds,
                          max_steps=args.adapt_steps, seed=args.seed, save_as=args.save_style,
                          force=args.force, threads=args.threads)
    print(adapted.describe(), file=sys.stderr)
    if adapted.saved:
        print(f"saved style {args.save_style!r} in {adapted.saved}", file=sys.stderr)
    return adapted.style


# -------------------------------------------------------------------------- batch


def _add_batch(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "batch", _run_batch,
        help="convert many MIDI files in parallel, resumably, with a JSON report",
        description="Convert every matched MIDI file, mirroring the input tree under the "
        "output folder. Existing outputs are skipped (use --force to redo them), so an "
        "interrupted batch is completed by running it again. If the output folder is the "
        "input folder, outputs are named STEM_STYLE.mid; inputs are never overwritten. "
        "Exit status: 0 when every file is ok or skipped, 2 when any failed or nothing matched. "
        "Per-song options (--bars, --chords, --reharmonize) are render's: a batch keeps each "
        "song's own chords and changes every bar; parallelism is --jobs (one torch thread "
        "per worker), not --threads.",
    )
    p.add_argument("inputs", nargs="+",
                   help="files, folders or quoted glob patterns ('in/**/*.mid' recurses)")
    p.add_argument("-o", "--output", required=True,
                   help="output folder (with --engine ray also a URI such as s3://bucket/out)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--style", default=None, help="style name (see `styletx styles`; default bach)")
    add_style_dir_arg(which)
    p.add_argument("--jobs", type=int, default=None,
                   help="workers: processes (default 1: in this process), or Ray actors "
                   "(default: as many as the cluster's CPUs allow)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="who converts: this machine's processes (default) or a Ray cluster "
                   "(needs `pip install 'styletx[ray]'`)")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (default $RAY_ADDRESS, else a local Ray)")
    p.add_argument("--num-cpus-per-worker", type=float, default=1.0, help="Ray: CPUs per actor")
    p.add_argument("--gpus-per-worker", type=float, default=0.0,
                   help="Ray: GPUs per actor (use with --device cuda)")
    p.add_argument("--seed", type=int, default=0,
                   help="batch seed (default 0, so a batch repeats unless asked otherwise; "
                   "render's default is a fresh seed); each file's seed derives from it and its "
                   "relative path")
    p.add_argument("--force", action="store_true", help="redo files whose output exists")
    p.add_argument("--wav", action="store_true", help="also write a WAV preview per file")
    p.add_argument("--report", default=None,
                   help="JSON report path (default OUTPUT/styletx-report.json)")
    add_sampling_args(p)


def _run_batch(args: argparse.Namespace) -> int:
    from styletx.batch import REPORT_NAME, BatchOptions, format_summary, run_batch

    options = BatchOptions(style=style_arg(args), transfer=transfer_options(args), force=args.force,
                           wav=args.wav, device=args.device)
    if args.engine == "ray":
        from styletx.batch_ray import RayOptions, run_ray_batch

        report, where = run_ray_batch(args.inputs, args.output, options, RayOptions(
            args.address, args.jobs, args.num_cpus_per_worker, args.gpus_per_worker),
            report_path=args.report)
    else:
        if args.address or args.num_cpus_per_worker != 1.0 or args.gpus_per_worker:
            raise StyleTxError("--address, --num-cpus-per-worker and --gpus-per-worker go with --engine ray")
        if any("://" in s for s in [*args.inputs, args.output]):
            raise StyleTxError("URIs need --engine ray; the local engine reads and writes local paths")
        report = run_batch(args.inputs, args.output, options, jobs=1 if args.jobs is None else args.jobs,
                           report_path=args.report, progress=True)
        where = args.report or str(Path(args.output) / REPORT_NAME)
    print(format_summary(report, where))
    return 2 if report.count("failed") else 0


# --------------------------------------------------------------------------- plot


def _add_plot(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "plot", _run_plot,
        help="draw a piano roll of a MIDI file (and of its styled version)",
        description="Draw the melody (red) and the accompaniment (blue) as a piano roll, "
        "with bar lines; given two files, the input above the output. Drums are left out.")
    p.add_argument("files", nargs="+", metavar="MIDI", help="one or two MIDI files")
    p.add_argument("-o", "--output", required=True, type=Path, help="PNG file to write")
    add_melody_args(p)
    p.add_argument("--force", action="store_true", help="replace an existing PNG")


def _run_plot(args: argparse.Namespace) -> int:
    from styletx.preview import plot_piano_roll

    if len(args.files) > 2:
        raise StyleTxError("plot takes one or two MIDI files (input, then output)")
    plot_piano_roll(args.files, args.output, melody_track=args.melody_track, force=args.force)
    print(f"wrote {args.output}")
    return 0


# ------------------------------------------------------------------------- styles


def _add_styles(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "styles", _run_styles,
        help="list the installed styles",
                              description="List every installed style and what it was trained on.")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--remove", metavar="NAME", help="delete the user style NAME (asks first)")
    p.add_argument("--yes", action="store_true", help="with --remove: do not ask")


def _remove_style(args: argparse.Namespace) -> int:
    from styletx.stylefolder.format import is_style_folder
    from styletx.styles import remove_user_style, user_styles_dir

    directory = user_styles_dir() / args.remove
    if "/" in args.remove or not is_style_folder(directory):
        remove_user_style(args.remove)  # not a user style: raises with the reason
    if not args.yes:
        try:
            answer = input(f"delete the user style {args.remove!r} ({directory})? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("not deleted")
            return 1
    print(f"deleted {remove_user_style(args.remove)}")
    return 0


def _run_styles(args: argparse.Namespace) -> int:
    from styletx.stylefolder.format import StyleFolder
    from styletx.styles import style_origins, user_styles_dir

    if args.remove:
        return _remove_style(args)
    rows = []
    for name, (directory, origin) in sorted(style_origins().items()):
        folder = StyleFolder(directory)
        info, cfg = folder.read_info(), folder.read_config()  # torch-free: listing styles stays fast
        rows.append({
            "name": name,
            "meters": info.meters,
            "steps_per_beat": cfg.steps_per_beat,
            "pitch_range": [cfg.pitch_lo, cfg.pitch_hi - 1],
            "temperature": info.temperature,
            "chords_per": info.harmonic_rhythm,
            "instrumentation": [f"{p.name} (program {p.program}{', bass line' if p.role == 'bass' else ''})"
                                for p in info.instrumentation],
            "provenance": info.provenance,
            "origin": origin,
            "path": str(directory),
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no styles installed")
    for r in rows:
        print(f"{r['name']} ({r['origin']}): meters {', '.join(r['meters']) or '?'}; "
              f"{r['steps_per_beat']} steps per beat; "
              f"pitches {r['pitch_range'][0]}-{r['pitch_range'][1]}; temperature {r['temperature']:g}; "
              f"chords per {r['chords_per'].replace('_', ' ')}")
        print(f"  instruments: {'; '.join(r['instrumentation'])}")
        print(f"  data: {r['provenance']}")
    print(f"user styles folder: {user_styles_dir()}")
    return 0


# -------------------------------------------------------------------- data, train


def _add_data(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "data", _run_data,
        help="build a style's training corpus (bach from music21; others through MMA)",
        description="Build and cache a style's training grids. Styles other than bach are "
        "rendered through Debian's mma (apt-get install mma).")
    p.add_argument("style")
    p.add_argument("--steps-per-beat", type=int, default=None,
                   help="grid resolution (default: the style's)")
    p.add_argument("--limit", type=int, default=None, help="pieces to render (MMA styles)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached grids")


def _run_data(args: argparse.Namespace) -> int:
    from styletx.training.corpus import build_corpus

    build_corpus(args.style, steps_per_beat=args.steps_per_beat, limit=args.limit, seed=args.seed,
                 jobs=args.jobs, rebuild=args.rebuild)
    return 0


def _add_feel(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "feel", _run_feel,
        help="fit a shipped style's performance feel (velocity, timing, length) into a style folder",
        description="Fit the feel from the style's data (train split; see styletx/training/feel.py) "
        "and write it into the style folder DIR; `styletx train` does this too.")
    p.add_argument("style")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the style folder")
    p.add_argument("--limit", type=int, default=None, help="files to fit on (default 300)")


def _run_feel(args: argparse.Namespace) -> int:
    from styletx.training.feel import FIT_FILES, write_style_feel

    command = "styletx feel " + " ".join(sys.argv[2:])
    print(write_style_feel(args.style, args.output, limit=args.limit or FIT_FILES,
                           command=command).summary())
    return 0


def _add_train(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "train", _run_train,
        help="train a style model",
        description="Train one style model on its corpus (see `styletx data`), with early "
        "stopping on the validation split and held-out metrics at the end.")
    p.add_argument("--style", default=None,
                   help="a shipped style's name, or with --data (--recipe) the name of your own style")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="checkpoint folder (default: <cache>/models/STYLE; with --data the "
                   "user styles folder, see `styletx styles`)")
    own = p.add_argument_group("your own style (--data or --recipe)")
    source = own.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="train on every MIDI file under DIR (searched recursively); the "
                        "result installs as a user style")
    source.add_argument("--recipe", type=Path, default=None, metavar="FILE",
                        help='a user recipe (JSON: {"name": ..., "data": {"kind": "folder", '
                        '"path": DIR}, ...}); --data DIR is shorthand for one, and the '
                        "options below override its fields")
    base = own.add_mutually_exclusive_group()
    base.add_argument("--from", dest="base", default=None, metavar="STYLE",
                      help="fine-tune from this shipped style (the default, with the nearest "
                      "style, when the data has under 2,000 beats)")
    base.add_argument("--scratch", action="store_true", help="train from scratch even on small data")
    add_melody_args(own)
    own.add_argument("--force", action="store_true",
                     help="replace an installed user style, or hide a shipped style of that name")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--chunk-frames", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--patience", type=int, default=None)
    p.add_argument("--steps-per-beat", type=int, default=None)
    p.add_argument("--pitch-range", default=None, metavar="LO-HI",
                   help="lowest and highest accompaniment MIDI pitch, e.g. 36-83")
    p.add_argument("--max-transpose", type=int, default=None)
    p.add_argument("--frame-fraction", type=float, default=None,
                   help="share of frames the generator scores per step (default 0.25)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this long")
    p.add_argument("--max-steps-per-epoch", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="use only this many pieces (tests)")
    p.add_argument("--model", default=None, metavar="JSON",
                   help='overrides of model config fields, e.g. \'{"gen_channels": 48}\'')
    p.add_argument("--seed", type=int, default=None, help="default 0 (or the recipe's)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue from the output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_train(args: argparse.Namespace) -> int:
    import shlex

    import torch

    from styletx.paths import cache_dir
    from styletx.training.train import train_recipe

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.data is not None or args.recipe is not None:
        return _train_own(args)
    if args.base or args.scratch or args.melody_track is not None or args.force:
        raise StyleTxError("--from, --scratch, --melody-track and --force go with --data DIR")
    if args.style is None:
        raise StyleTxError("train needs --style NAME (a shipped style), --data DIR or --recipe FILE")
    model: dict[str, object] = json.loads(args.model or "{}")
    if args.steps_per_beat:
        model["steps_per_beat"] = args.steps_per_beat
    if args.pitch_range:
        from styletx.api import parse_pitch_range

        lo, hi = parse_pitch_range(args.pitch_range)
        model["pitch_lo"], model["pitch_hi"] = lo, hi + 1
    overrides = {
        "epochs": args.epochs, "batch_size": args.batch_size, "chunk_frames": args.chunk_frames,
        "lr": args.lr, "patience": args.patience, "frame_fraction": args.frame_fraction,
        "max_transpose": args.max_transpose, "max_minutes": args.max_minutes,
        "max_steps_per_epoch": args.max_steps_per_epoch, "limit": args.limit, "seed": args.seed,
    }
    out = train_recipe(args.style, args.output or cache_dir() / "models" / args.style,
                       model=model, overrides=overrides,
                       device=args.device, resume=args.resume, progress=not args.quiet,
                       command="styletx " + " ".join(shlex.quote(a) for a in args.argv))
    print(f"wrote {out}")
    return 0


def _train_own(args: argparse.Namespace) -> int:
    import dataclasses
    import shlex

    from styletx.training.own import OwnTrainOptions, train_from_folder
    from styletx.training.recipes import MidiFolder, UserRecipe

    if args.limit is not None or args.pitch_range or args.max_transpose is not None \
            or args.chunk_frames is not None or args.patience is not None \
            or args.frame_fraction is not None:
        raise StyleTxError("--limit, --pitch-range, --max-transpose, --chunk-frames, "
                           "--patience and --frame-fraction do not apply to --data or --recipe")
    if args.recipe is not None:
        recipe = UserRecipe.load(args.recipe, name=args.style)
    elif args.style is None:
        raise StyleTxError("--data DIR needs --style NAME, the name of the new style")
    else:
        recipe = UserRecipe(name=args.style, data=MidiFolder(args.data))
    given = {"base": args.base, "scratch": args.scratch or None, "steps_per_beat": args.steps_per_beat,
             "epochs": args.epochs, "max_minutes": args.max_minutes,
             "max_steps_per_epoch": args.max_steps_per_epoch, "batch_size": args.batch_size,
             "lr": args.lr, "model": json.loads(args.model) if args.model else None,
             "seed": args.seed}
    recipe = dataclasses.replace(recipe, **{k: v for k, v in given.items() if v is not None})
    if args.scratch:
        recipe = dataclasses.replace(recipe, base=None)
    if args.melody_track is not None:
        recipe = dataclasses.replace(recipe, data=MidiFolder(recipe.data.path, args.melody_track))
    opts = OwnTrainOptions(
        recipe=recipe, output=args.output, force=args.force, resume=args.resume, device=args.device,
        progress=not args.quiet, command="styletx " + " ".join(shlex.quote(a) for a in args.argv),
    )
    out = train_from_folder(opts)
    print(f"installed style {recipe.name!r} in {out}")
    return 0


# --------------------------------------------------------------------------- eval


def _add_eval(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "eval", _run_eval,
        help="score a transfer (a musical report card) or benchmark a style",
        description="With IN.mid OUT.mid --style S: a report card for one transfer, each metric "
        "beside the input's or the style data's value and a line on what good looks like. "
        "With --bench STYLE: transfer held-out pieces of the other styles into STYLE, harmonise "
        "their melodies, score them beside an MMA baseline, and write docs/quality/STYLE.json "
        "and docs/quality.md. With --train-classifier: train the style classifier behind "
        "style_prob.")
    p.add_argument("files", nargs="*", metavar="MIDI", help="IN.mid OUT.mid: an input and its transfer")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--style", help="the transfer's target style (for style_prob, NLL, data values)")
    add_style_dir_arg(which)
    add_melody_args(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--plot", type=Path, metavar="PNG", help="also draw the report card as a PNG")
    p.add_argument("--force", action="store_true", help="replace an existing PNG")
    p.add_argument("--bench", metavar="STYLE", help="run the end-to-end benchmark of STYLE")
    p.add_argument("--n", type=int, default=None,
                   help="bench: held-out inputs, balanced over sources (default 20)")
    p.add_argument("--seed", type=int, default=0, help="bench and classifier seed (default 0)")
    p.add_argument("--temperature", type=float, default=None,
                   help="bench: sampling temperature (default: the style's)")
    p.add_argument("--sweeps", default=None, metavar="K[,K...]",
                   help="bench: sampler sweep counts to compare, e.g. 5,10,20,40 (default: the "
                   "default setting only)")
    p.add_argument("--max-bars", type=int, default=None,
                   help="bench: cut inputs to their first bars (default 16; 0 = whole pieces)")
    base = p.add_mutually_exclusive_group()
    base.add_argument("--baseline", dest="baseline", action="store_true", default=None,
                      help="bench: require the MMA baseline (default: run it when mma is installed)")
    base.add_argument("--no-baseline", dest="baseline", action="store_false",
                      help="bench: skip the MMA baseline")
    p.add_argument("--out", type=Path, default=Path("docs/quality"),
                   help="bench: folder for STYLE.json/.md; FOLDER.md is rebuilt from all of them")
    p.add_argument("--assemble", action="store_true",
                   help="only rebuild FOLDER.md (docs/quality.md) from the bench results")
    p.add_argument("--inputs", choices=("mma", "real"), default="mma",
                   help="bench: held-out MMA renderings (default) or the real pieces "
                   "(--build-real; results in docs/quality-real)")
    p.add_argument("--build-real", action="store_true",
                   help="build the real-input set from music21's corpus into the cache")
    p.add_argument("--train-classifier", action="store_true",
                   help="train the style classifier on every style's training split")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="classifier file (default checkpoints/style_classifier.json)")
    p.add_argument("--pieces-per-style", type=int, default=200,
                   help="classifier: training pieces per style (default %(default)s)")


def _parse_sweeps(text: str | None) -> list[int]:
    if text is None:
        return [SamplerSettings.sweeps]
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise StyleTxError(f"bad --sweeps {text!r}: give positive counts, e.g. 5,10,20,40")
    return values


def _run_eval(args: argparse.Namespace) -> int:
    if args.train_classifier:
        return _eval_train_classifier(args)
    if args.build_real or args.inputs == "real":
        from styletx.evaluation.realcli import run_real

        return run_real(args)
    if args.assemble:
        from styletx.evaluation.bench import assemble

        print(f"wrote {assemble(args.out, args.out.with_suffix('.md'))}")
        return 0
    if args.bench:
        return _eval_bench(args)
    return _eval_pair(args)


def _eval_train_classifier(args: argparse.Namespace) -> int:
    from styletx.evaluation.bench import command_line, train_style_classifier
    from styletx.evaluation.styleclass import CLASSIFIER_NAME

    clf = train_style_classifier(seed=args.seed, pieces_per_style=args.pieces_per_style)
    clf.info["command"] = command_line()
    out = args.output or Path("checkpoints") / CLASSIFIER_NAME
    clf.save(out)
    per = ", ".join(f"{k} {v:.3f}" for k, v in clf.info["cv_accuracy_per_style"].items())
    print(f"wrote {out}: {clf.info['folds']}-fold CV accuracy {clf.info['cv_accuracy']:.3f} "
          f"on {clf.info['windows']} windows ({per})")
    return 0


def _eval_bench(args: argparse.Namespace) -> int:
    from styletx.evaluation.bench import (
        DEFAULT_MAX_BARS,
        DEFAULT_N,
        assemble,
        command_line,
        finite,
        run_bench,
        write_results,
    )

    if args.files:
        raise StyleTxError("--bench takes no MIDI files")
    n = DEFAULT_N if args.n is None else args.n
    if n < 1:
        raise StyleTxError("--n must be at least 1")
    max_bars = DEFAULT_MAX_BARS if args.max_bars is None else args.max_bars
    result = run_bench(args.bench, n=n, seed=args.seed, sweeps=_parse_sweeps(args.sweeps),
                       temperature=args.temperature,
                       baseline=args.baseline, max_bars=max_bars or None, command=command_line())
    js, md = write_results(result, args.out)
    doc = assemble(args.out, args.out.with_suffix(".md"))
    if args.json:
        print(json.dumps(finite({k: v for k, v in result.items() if k != "pieces"}), indent=1))
    else:
        print(md.read_text())
    for line in result["skipped"]:
        print(f"note: {line}", file=sys.stderr)
    print(f"wrote {js}, {md} and {doc}")
    return 0


def _eval_pair(args: argparse.Namespace) -> int:
    from styletx.evaluation.report import report_card

    if len(args.files) != 2:
        raise StyleTxError("eval takes two MIDI files, IN.mid OUT.mid (or --bench STYLE)")
    if not (args.style or args.style_dir):
        raise StyleTxError("eval IN.mid OUT.mid needs --style (or --style-dir), the transfer's "
                           "target style")
    if args.plot and args.plot.exists() and not args.force:
        raise StyleTxError(f"{args.plot} exists; use --force to replace it")
    with progress_bar(f"eval {Path(args.files[1]).name}") as bar:
        card = report_card(*args.files, style_arg(args), melody_track=args.melody_track,
                           progress=bar)
    if args.plot:
        card.plot(args.plot, force=args.force)
    print(json.dumps(card.to_dict(), indent=1) if args.json else card.text())
    return 0


# ------------------------------------------------------------------ serve, plugin


def _add_serve(subparsers: Subparsers) -> None:
    from styletx.service.settings import TOKEN_ENV, ServiceSettings

    d = ServiceSettings()
    p = _subcommand(subparsers, "serve", _run_serve,
        help="run the local HTTP service (for MuseScore, DAW scripts, curl)",
        description="Serve POST /v1/transfer, POST /v1/eval, GET /v1/styles and GET /v1/health "
        "(API docs at /docs). Needs the service extra: pip install 'styletx[serve]'.")
    p.add_argument("--host", default=d.host, help="address to bind (default %(default)s; any "
                   "non-loopback address needs a token)")
    p.add_argument("--port", type=int, default=d.port, help="port (default %(default)s)")
    p.add_argument("--jobs", type=int, default=d.jobs, help="worker processes (default %(default)s)")
    p.add_argument("--queue", type=int, default=d.queue,
                   help="jobs that may wait for a worker; past that, 429 (default %(default)s)")
    p.add_argument("--token", default=None,
                   help=f"require 'Authorization: Bearer TOKEN' (default ${TOKEN_ENV})")
    p.add_argument("--max-request-mb", type=float, default=d.max_request_bytes / 2**20,
                   help="largest request in MiB (default %(default)g)")
    p.add_argument("--max-bars", type=int, default=d.max_bars,
                   help="longest piece in bars (default %(default)s)")
    p.add_argument("--max-seconds", type=float, default=d.max_seconds,
                   help="longest time a job may sample (default %(default)g)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let a browser page from ORIGIN call the service (repeatable; default none)")


def _run_serve(args: argparse.Namespace) -> int:
    from styletx.service.settings import ServiceSettings, token_from_env

    settings = ServiceSettings(
        host=args.host, port=args.port, jobs=args.jobs, queue=args.queue,
        token=token_from_env(args.token), max_request_bytes=int(args.max_request_mb * 2**20),
        max_bars=args.max_bars, max_seconds=args.max_seconds, cors_origins=tuple(args.cors_origin))
    try:
        from styletx.service.server import serve
    except ImportError as e:
        raise StyleTxError(f"styletx serve needs {e.name}: pip install 'styletx[serve]'") from e
    serve(settings)
    return 0


def _add_install_plugin(subparsers: Subparsers) -> None:
    p = _subcommand(subparsers, "install-musescore-plugin", _run_install_plugin,
        help="copy the MuseScore plugin into MuseScore's plugin folder",
        description="Install the styletx plugin for MuseScore 3 (and 4, where its folder exists), "
        "then enable it in MuseScore under Plugins > Plugin Manager.")
    p.add_argument("--dest", type=Path, default=None,
                   help="plugin folder (default: MuseScore's own, under your Documents folder)")
    p.add_argument("--url", default=None, help="the service the plugin calls "
                   "(default http://127.0.0.1:8765)")


def _run_install_plugin(args: argparse.Namespace) -> int:
    from styletx.service.plugin import install_musescore_plugin

    for path in install_musescore_plugin(args.dest, url=args.url):
        print(f"installed {path}")
    return 0


# --------------------------------------------------------------------------- main

COMMANDS: list[Callable[[Subparsers], None]] = [
    _add_render, _add_batch, _add_eval, _add_plot, _add_styles, _add_info, _add_data, _add_feel, _add_train,
    _add_serve, _add_install_plugin,
]
"""Registration functions, one per subcommand, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand in :data:`COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="styletx",
        description="Rewrite the accompaniment of a MIDI file in another style, "
        "keeping the melody note for note.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every warning (default: a one-line summary)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    for sub in subparsers.choices.values():
        # Also accepted after the command; SUPPRESS keeps a flag given before it.
        sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="print every warning (default: a one-line summary)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (never raises, except SystemExit
    from argparse's own usage errors and ``--help``)."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the model card's command
    try:
        with collect_warnings() as warnings:
            try:
                return args.func(args)
            finally:
                _print_warnings(warnings, verbose=args.verbose)
    except StyleTxError as e:
        print(f"styletx: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("styletx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `styletx info x.mid | head`).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:
        if os.environ.get("STYLETX_DEBUG") == "1":
            traceback.print_exc()
        print(f"styletx: internal error: {type(e).__name__}: {_one_line(e)} "
              "(set STYLETX_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def _print_warnings(warnings: WarningCollector, verbose: bool = False) -> None:
    """Recoverable oddities: one summary line, or all of them with ``-v``/``--verbose``
    (or ``STYLETX_DEBUG=1``)."""
    if verbose or os.environ.get("STYLETX_DEBUG") == "1":
        for message in warnings.messages:
            print(f"styletx: warning: {message}", file=sys.stderr)
    elif warnings.summary():
        print(f"styletx: {warnings.summary()}", file=sys.stderr)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())
