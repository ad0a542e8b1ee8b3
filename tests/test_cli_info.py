"""``styletx info`` on every fixture, and the one-line error contract of the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from styletx import describe
from styletx.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
VALID = sorted(name for name, e in EXPECTED.items() if "error" not in e)
INVALID = sorted(name for name, e in EXPECTED.items() if "error" in e)
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", VALID)
def test_info_text_and_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(FIXTURES / name)]) == 0
    text = capsys.readouterr().out
    assert "melody:" in text and "bars" in text

    assert main(["info", str(FIXTURES / name), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    expected = EXPECTED[name]
    if expected["melody"] == "skyline":
        assert info["melody"]["index"] == -1 and "skyline" in info["melody"]["reason"]
    else:
        assert info["melody"]["index"] == expected["melody"]
        assert info["tracks"][expected["melody"]]["role"] == "melody"
    if "bars" in expected:
        assert (info["bars"], info["pickup"]) == (expected["bars"], expected["pickup"])
    assert info["duration_seconds"] > 0
    assert all({"index", "name", "program", "notes", "max_polyphony", "is_drum"} <= set(t)
               for t in info["tracks"])


def test_info_maps_carry_bars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(FIXTURES / "pickup.mid"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [(e["tick"], e["bar"]) for e in info["time_signatures"]] == [(0, 0), (480, 1)]
    assert main(["info", str(FIXTURES / "tempo_changes.mid"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [e["bar"] for e in info["tempos"]] == [1, 2, 3]
    assert [round(e["bpm"]) for e in info["tempos"]] == [120, 90, 140]


def test_info_melody_track_option(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "named_tracks.mid")
    assert main(["info", path, "--melody-track", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["melody"]["name"] == "Piano"
    assert main(["info", path, "--melody-track", "piano", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["melody"]["index"] == 0
    assert main(["info", path, "--melody-track", "Tuba"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("name", INVALID)
def test_bad_files_one_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(FIXTURES / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("styletx: error: ")
    assert captured.err.count("\n") == 1
    assert EXPECTED[name]["error"] in captured.err


@pytest.mark.parametrize("name", ["corrupt.mid", "truncated.mid"])
def test_bad_files_subprocess(name: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STYLETX_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "styletx", "info", str(FIXTURES / name)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["info", str(tmp_path / "nope.mid")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_internal_error_and_interrupt(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def bug(_: object) -> None:
        raise ZeroDivisionError("division by zero")

    def interrupt(_: object) -> None:
        raise KeyboardInterrupt

    path = str(FIXTURES / "drums.mid")
    monkeypatch.delenv("STYLETX_DEBUG", raising=False)
    monkeypatch.setattr(describe, "read_song", bug)
    assert main(["info", path]) == 1
    err = capsys.readouterr().err
    assert err == ("styletx: internal error: ZeroDivisionError: division by zero "
                   "(set STYLETX_DEBUG=1 for a traceback)\n")
    monkeypatch.setenv("STYLETX_DEBUG", "1")
    assert main(["info", path]) == 1
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setattr(describe, "read_song", interrupt)
    assert main(["info", path]) == 130
