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
from typing import Any

import pretty_midi

from styletx.errors import StyleTxError
from styletx.midi_io import part_stats, read_midi, select_parts
from styletx.song import Parts, Song
from styletx.timing import bar_number, bar_starts, duration_seconds, has_pickup, tick_to_seconds

Subparsers = Any  # argparse's _SubParsersAction is private


def melody_track_arg(text: str) -> int | str:
    """Parse ``--melody-track``: a number is a part index, anything else a part name."""
    return int(text) if text.isdigit() else text


# --------------------------------------------------------------------------- info


def _add_info(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="show a MIDI file's parts, chosen melody, tempo, meter and key",
        description="Show the parts of a MIDI file, which one styletx takes as the melody "
        "and why, and its tempo, time-signature and key maps.",
    )
    p.add_argument("file", help="MIDI file (.mid)")
    p.add_argument("--melody-track", type=melody_track_arg, metavar="X",
                   help="part index or name to use as the melody instead of guessing")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_info)


def describe(song: Song, parts: Parts) -> dict[str, Any]:
    """Everything ``styletx info`` reports, as plain JSON-ready data."""
    map_ticks = [e.tick for e in (*song.tempos, *song.time_signatures, *song.key_signatures)]
    starts = bar_starts(song, max([song.end_tick, *(t + 1 for t in map_ticks)]))
    n_bars = len(bar_starts(song))

    def at(tick: int) -> dict[str, Any]:
        return {"tick": tick, "bar": bar_number(song, starts, tick),
                "seconds": round(tick_to_seconds(song, tick), 6)}

    roles = {id(parts.melody): "melody"}
    roles.update({id(t): "accompaniment" for t in parts.accompaniment})
    roles.update({id(t): "drums" for t in parts.drums})
    tracks = []
    for t in song.tracks:
        stats = part_stats(t, song.resolution)
        tracks.append({
            "index": t.index,
            "name": t.name,
            "channel": t.channel,
            "program": t.program,
            "instrument": "Drums" if t.is_drum else pretty_midi.program_to_instrument_name(
                t.program),
            "is_drum": t.is_drum,
            "notes": stats.notes,
            "max_polyphony": stats.max_polyphony,
            "mean_pitch": round(stats.mean_pitch, 2),
            "role": roles.get(id(t), "split by skyline"),
        })
    return {
        "file": song.source,
        "midi_type": song.midi_type,
        "resolution": song.resolution,
        "duration_seconds": round(duration_seconds(song), 3),
        "bars": n_bars,
        "pickup": has_pickup(song),
        "tracks": tracks,
        "melody": {"index": parts.melody.index, "name": parts.melody.name,
                   "notes": len(parts.melody.notes), "reason": parts.reason},
        "tempos": [{**at(t.tick), "bpm": round(t.bpm, 3), "us_per_quarter": t.us_per_quarter}
                   for t in song.tempos],
        "time_signatures": [{**at(ts.tick), "numerator": ts.numerator,
                             "denominator": ts.denominator} for ts in song.time_signatures],
        "key_signatures": [{**at(k.tick), "key": k.name, "tonic": k.tonic, "minor": k.minor}
                           for k in song.key_signatures],
    }


def format_info(info: dict[str, Any]) -> str:
    """Render :func:`describe`'s result as text for a terminal."""
    pickup = ", starting with a pickup bar" if info["pickup"] else ""
    lines = [
        f"{info['file']}: MIDI type {info['midi_type']}, {info['resolution']} ticks per quarter",
        f"length: {info['duration_seconds']:.2f} s, {info['bars']} bars{pickup}",
        "",
        f"{'part':>4}  {'name':<20} {'ch':>3}  {'instrument':<26} {'notes':>6} {'poly':>4}  role",
    ]
    for t in info["tracks"]:
        channel = "" if t["channel"] is None else t["channel"] + 1
        instrument = t["instrument"] if t["is_drum"] else f"{t['program']} {t['instrument']}"
        lines.append(f"{t['index']:>4}  {t['name'][:20]:<20} {channel:>3}  {instrument[:26]:<26} "
                     f"{t['notes']:>6} {t['max_polyphony']:>4}  {t['role']}")
    lines += ["", f"melody: {info['melody']['reason']}", ""]
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
    song = read_midi(args.file)
    info = describe(song, select_parts(song, args.melody_track))
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


# --------------------------------------------------------------------------- main

COMMANDS: list[Callable[[Subparsers], None]] = [_add_info]
"""Registration functions, one per subcommand, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand in :data:`COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="styletx",
        description="Rewrite the accompaniment of a MIDI file in another style, "
        "keeping the melody note for note.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (never raises, except SystemExit
    from argparse's own usage errors and ``--help``)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
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


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())
