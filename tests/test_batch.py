"""``styletx batch``: good and bad files, resume after an interruption, seeds, in-place output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from styletx import batch
from styletx.api import TransferOptions
from styletx.batch import BatchOptions, file_seed, plan, run_batch
from styletx.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = ["pickup.mid", "meter_3_4.mid", "overlapping_same_pitch.mid"]
FAST = TransferOptions().replace(sweeps=1)


def _tree(root: Path) -> Path:
    """An input folder: three good files (one in a subfolder), a corrupt and a non-MIDI file."""
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(FIXTURES / GOOD[0], src / GOOD[0])
    shutil.copy(FIXTURES / GOOD[1], src / GOOD[1])
    shutil.copy(FIXTURES / GOOD[2], src / "sub" / GOOD[2])
    shutil.copy(FIXTURES / "corrupt_track.mid", src / "corrupt_track.mid")
    (src / "notes.mid").write_text("not a MIDI file\n")
    return src


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*.mid"))}


def test_cli_batch_converts_good_and_reports_bad(
    tiny_style: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _tree(tmp_path)
    out = tmp_path / "out"
    code = main(["batch", f"{src}/**/*.mid", "-o", str(out), "--style", tiny_style,
                 "--sweeps", "1", "--seed", "3"])
    assert code == 2  # some files failed
    assert set(_outputs(out)) == {"pickup.mid", "meter_3_4.mid", "sub/overlapping_same_pitch.mid"}
    report = json.loads((out / "styletx-report.json").read_text())
    assert report["counts"] == {"ok": 3, "failed": 2, "skipped": 0}
    by_name = {Path(f["input"]).name: f for f in report["files"]}
    assert "corrupt" in by_name["corrupt_track.mid"]["reason"]
    assert "not a MIDI file" in by_name["notes.mid"]["reason"]
    assert by_name["pickup.mid"]["seed"] == file_seed(3, "pickup.mid")
    assert "overlapping" in by_name["overlapping_same_pitch.mid"]["warnings"]
    text = capsys.readouterr()
    assert "failed" in text.out and "notes.mid" in text.out
    assert len(text.err.strip().splitlines()[-1]) < 400  # the warning summary is one line

    # A rerun skips everything that exists; only the bad files fail again.
    assert main(["batch", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1"]) == 2
    report = json.loads((out / "styletx-report.json").read_text())
    assert report["counts"] == {"ok": 0, "failed": 2, "skipped": 3}


def test_cli_batch_exit_codes(tiny_style: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", f"{tmp_path}/*.mid", "-o", str(tmp_path / "o"),
                 "--style", tiny_style]) == 2
    assert "no input files matched" in capsys.readouterr().err
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "a.mid")
    assert main(["batch", str(tmp_path / "a.mid"), "-o", str(tmp_path / "o"),
                 "--style", tiny_style, "--sweeps", "1"]) == 0


def test_interrupted_batch_resumes_to_identical_bytes(
    tiny_style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _tree(tmp_path)
    options = BatchOptions(tiny_style, FAST.replace(seed=7))
    reference = tmp_path / "reference"
    run_batch([src], reference, options, progress=False)

    real = batch.convert_one

    def interrupt_second(job: batch.Job, opts: BatchOptions) -> batch.FileResult:
        if job.src.name == "pickup.mid":  # files go in path order: one output exists by then
            raise KeyboardInterrupt
        return real(job, opts)

    out = tmp_path / "out"
    monkeypatch.setattr(batch, "convert_one", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, options, progress=False)
    assert json.loads((out / "styletx-report.json").read_text())["interrupted"] is True
    assert len(_outputs(out)) == 1
    monkeypatch.setattr(batch, "convert_one", real)

    report = run_batch([src], out, options, progress=False)
    assert report.count("skipped") == 1 and report.count("ok") == 2
    assert _outputs(out) == _outputs(reference)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_seeds_give_identical_bytes_with_workers(tiny_style: str, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in GOOD[:2]:
        shutil.copy(FIXTURES / name, src / name)
    options = BatchOptions(tiny_style, FAST.replace(seed=11))
    run_batch([src], tmp_path / "one", options, progress=False)
    report = run_batch([src], tmp_path / "two", options, jobs=2, progress=False)
    assert report.count("ok") == 2
    assert all(r.peak_rss_mib > 0 for r in report.results)
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    other = run_batch([src], tmp_path / "three", BatchOptions(tiny_style, FAST.replace(seed=12)),
                      progress=False)
    assert other.count("ok") == 2
    assert _outputs(tmp_path / "three") != _outputs(tmp_path / "one")


def test_output_in_the_input_folder_never_overwrites_inputs(tiny_style: str,
                                                            tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in GOOD[:2]:
        shutil.copy(FIXTURES / name, src / name)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    options = BatchOptions(tiny_style, FAST, force=True)
    report = run_batch([f"{src}/*.mid"], src, options, progress=False)
    assert report.count("ok") == 2
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.name in before} == before
    assert (src / "pickup_tiny.mid").is_file() and (src / "meter_3_4_tiny.mid").is_file()
    # A rerun (even with --force) does not take its own outputs as inputs.
    again = run_batch([f"{src}/*.mid"], src, options, progress=False)
    assert sorted(Path(r.input).name for r in again.results) == sorted(GOOD[:2])
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.name in before} == before


def test_plan_fails_outputs_that_are_inputs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "x.mid")
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "b" / "x.mid")
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "y.midi")
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "y.mid")
    jobs, failed = plan([tmp_path], tmp_path / "b", BatchOptions(style="tiny"))
    reasons = {Path(f.input).name: f.reason for f in failed}
    assert "is an input file" in reasons["x.mid"]
    assert "also the output of" in reasons["y.midi"]
    assert {j.rel for j in jobs} == {"b/x.mid", "y.mid"}


def test_cli_ray_flags_and_uris_need_the_ray_engine(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "pickup.mid", tmp_path / "a.mid")
    base = ["batch", str(tmp_path / "a.mid"), "-o", str(tmp_path / "o")]
    assert main([*base, "--address", "127.0.0.1:6379"]) == 2
    assert "go with --engine ray" in capsys.readouterr().err
    assert main(["batch", f"file://{tmp_path}/a.mid", "-o", str(tmp_path / "o")]) == 2
    assert "URIs need --engine ray" in capsys.readouterr().err
    assert main([*base, "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
