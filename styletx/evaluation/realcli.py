"""The CLI's ``eval --build-real`` and ``eval --bench STYLE --inputs real``, kept out of cli.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from styletx.errors import StyleTxError

REAL_OUT = Path("docs/quality-real")


def run_real(args: argparse.Namespace) -> int:
    """Build the set, run one style's real bench, or assemble ``docs/quality-real.md``."""
    from styletx.evaluation.bench import command_line
    from styletx.evaluation.realbench import assemble_real, run_real_bench, write_real

    if args.build_real:
        from styletx.evaluation.realset import build_real_set

        manifest = build_real_set()
        print(f"wrote {manifest}")
        return 0
    out = REAL_OUT if args.out == Path("docs/quality") else args.out
    if args.assemble:
        print(f"wrote {assemble_real(out, out.with_suffix('.md'))}")
        return 0
    if not args.bench:
        raise StyleTxError("--inputs real goes with --bench STYLE or --assemble")
    sweeps = int(args.sweeps) if args.sweeps else 5
    result = run_real_bench(args.bench, seed=args.seed, sweeps=sweeps, limit=args.n,
                            command=command_line())
    js = write_real(result, out)
    doc = assemble_real(out, out.with_suffix(".md"))
    print(js.with_suffix(".md").read_text())
    print(f"wrote {js} and {doc}")
    return 0
