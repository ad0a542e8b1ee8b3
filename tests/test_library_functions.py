"""Library functions under the CLI's answers (issue #18, item 3): a file's description, a
transfer's report card and few-shot adaptation with its checks. Each returns data that
serialises to JSON; the CLI only formats it, so ``--json`` prints exactly that data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from styletx.api import render
from styletx.cli import main
from styletx.describe import describe_file
from styletx.errors import StyleTxError
from styletx.evaluation.report import ReportCard, report_card
from styletx.training.own import adapt_style
from tests.test_own_style import song_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize("name", ["pickup.mid", "drums.mid", "meter_6_8.mid"])
def test_describe_file_is_what_info_prints(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    info = describe_file(FIXTURES / name)
    assert main(["info", str(FIXTURES / name), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(info))
    assert info["chords_per"] == "half_bar"  # per half bar whatever the style, on purpose
    assert info["chords"] and info["file"] == str(FIXTURES / name)
    sent = describe_file((FIXTURES / name).read_bytes())
    assert {**sent, "file": info["file"]} == info


def test_describe_file_refuses_a_bad_file_in_one_error() -> None:
    with pytest.raises(StyleTxError, match=r"not_midi\.mid"):
        describe_file(FIXTURES / "not_midi.mid")


def test_report_card_is_what_eval_prints(tiny_style: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src, out = FIXTURES / "tempo_changes.mid", tmp_path / "out.mid"
    render(src, out, tiny_style, seed=0, sweeps=1)
    steps: list[tuple[int, int]] = []
    card = report_card(src, out, tiny_style, progress=lambda done, total: steps.append((done, total)))
    assert isinstance(card, ReportCard) and card.style == tiny_style
    assert steps[-1] == (3, 3)
    assert card.output["melody_exact"] == 1.0 and card.output["meta_kept"] == 1.0
    assert {"nll", "chord_agreement", "groove"} <= set(card.output) and "nll" in card.input
    data = card.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # NaN became null
    assert main(["eval", str(src), str(out), "--style", tiny_style, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data
    assert main(["eval", str(src), str(out), "--style", tiny_style]) == 0
    assert capsys.readouterr().out.strip() == card.text()
    png = card.plot(tmp_path / "card.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    sent = report_card(src.read_bytes(), out.read_bytes(), tiny_style)  # what a service receives
    assert (sent.input_file, sent.output_file) == ("input", "output")
    assert sent.to_dict()["output"] == data["output"]


def test_report_card_of_a_bad_file_is_an_error_before_the_style_loads(tmp_path: Path) -> None:
    with pytest.raises(StyleTxError, match=r"not_midi\.mid"):
        report_card(FIXTURES / "not_midi.mid", FIXTURES / "pickup.mid", "no-such-style")


def test_adapt_style_checks_saves_and_cleans_up(tiny_style: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    users = tmp_path / "user-styles"
    monkeypatch.setenv("STYLETX_USER_STYLES", str(users))
    example = song_file(tmp_path / "example.mid", seed=3)
    with pytest.raises(StyleTxError, match="name"):
        adapt_style([example], base=tiny_style, save_as="bad/name", max_steps=1)
    threads = torch.get_num_threads()
    adapted = adapt_style([example], base=tiny_style, max_steps=1, save_as="kept")
    assert torch.get_num_threads() == threads
    assert not adapted.directory.exists()  # the work folder is gone, the weights are loaded
    assert adapted.saved == users / "kept" and (adapted.saved / "model.safetensors").is_file()
    assert adapted.style.name == "kept" and adapted.steps == 1
    record = adapted.to_dict()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["saved"] == str(users / "kept") and record["base"] == tiny_style
    with pytest.raises(StyleTxError, match="kept"):  # taken: refused before training
        adapt_style([example], base=tiny_style, save_as="kept", max_steps=1)
