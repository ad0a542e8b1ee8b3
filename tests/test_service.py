"""``styletx serve``: FastAPI's test client for the routes, and real uvicorn servers on loopback.

The real servers are ``styletx serve`` processes started here, on 127.0.0.1 and, for the
token, on the second loopback address 127.0.0.2; they render with the tiny untrained style.
Under ``CI=true`` a missing FastAPI, uvicorn or httpx fails instead of skipping.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def _need(module: str) -> Any:
    if os.environ.get("CI") == "true":
        return importlib.import_module(module)  # CI must have the service's dependencies
    return pytest.importorskip(module)


_need("fastapi")
_need("uvicorn")
httpx = _need("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from styletx.cli import build_parser, main  # noqa: E402
from styletx.service.forms import RenderForm  # noqa: E402
from styletx.service.main import create_app  # noqa: E402
from styletx.service.settings import ServiceSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SONG = FIXTURES / "named_tracks.mid"  # 4 bars, melody and accompaniment
SLOW = {"sweeps": "100"}  # about 15-20 s on the tiny style here: long enough to interrupt


def _post(client: Any, path: Path = SONG, **fields: str) -> Any:
    return client.post("/v1/transfer", files={"file": (path.name, path.read_bytes())},
                       data={"style": "tiny", **fields})


def _one_line_error(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}
    line = body["error"]
    assert line.startswith("styletx: error: ") and "\n" not in line and "Traceback" not in line
    return line


@pytest.fixture(scope="module")
def _client(_tiny_models: Path) -> Iterator[TestClient]:
    """One app for the module, so its worker starts (and loads the tiny style) once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLETX_MODELS", str(_tiny_models))
        with TestClient(create_app(ServiceSettings(jobs=1, queue=2))) as c:
            yield c


@pytest.fixture
def client(_client: TestClient, tiny_style: str) -> TestClient:
    return _client


# ----------------------------------------------------------------- the test client


def test_health_and_styles(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["capacity"] == 3 and health["busy"] == 0
    styles = {s["name"]: s for s in client.get("/v1/styles").json()}
    assert "tiny" in styles and "jazz" in styles
    assert not any("path" in s for s in styles.values())  # no server paths in answers


def test_the_api_page_lists_the_render_options(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    form = next(iter(schema["paths"]["/v1/transfer"]["post"]["requestBody"]["content"].values()))
    ref = form["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"file", "style", "seed", "strength", "bars", "format"} <= set(
        schema["components"]["schemas"][ref]["properties"])


def test_uploads_stay_in_the_private_folder(client: TestClient) -> None:
    folder = client.app.state.workdir
    assert folder.stat().st_mode & 0o777 == 0o700
    assert _post(client, seed="1").status_code == 200
    assert list(folder.iterdir()) == []  # each request's files are gone once it is answered
    app = create_app(ServiceSettings())
    with TestClient(app):
        folder = app.state.workdir
        assert folder.is_dir()
    assert not folder.exists()  # and the folder itself at shutdown


def test_transfer_is_byte_identical_to_styletx_render(client: TestClient, tmp_path: Path) -> None:
    r = _post(client, seed="7", strength="0.8")
    assert r.status_code == 200, r.text
    assert r.headers["x-styletx-seed"] == "7"
    assert isinstance(json.loads(r.headers["x-styletx-warnings"]), list)
    assert r.headers["content-disposition"] == 'attachment; filename="named_tracks (tiny).mid"'
    out = tmp_path / "cli.mid"
    assert main(["render", str(SONG), "-o", str(out), "--style", "tiny", "--seed", "7",
                 "--strength", "0.8"]) == 0
    assert r.content == out.read_bytes()


def test_a_drawn_seed_is_reported_and_reproduces(client: TestClient) -> None:
    first = _post(client)
    seed = first.headers["x-styletx-seed"]
    assert _post(client, seed=seed).content == first.content


def test_musicxml_output(client: TestClient) -> None:
    r = _post(client, seed="1", format="musicxml")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.recordare.musicxml+xml")
    assert b"<score-partwise" in r.content


def test_a_score_in_gives_styletx_renders_output(client: TestClient, tmp_path: Path) -> None:
    """MusicXML in, read by the CLI's reader with its chord symbols followed: the same bytes
    as ``styletx render``; and MXL out."""
    score = FIXTURES / "scores" / "chord_symbols.musicxml"
    r = _post(client, score, seed="2")
    assert r.status_code == 200, r.text
    assert any("chord symbols" in note for note in json.loads(r.headers["x-styletx-notes"]))
    out = tmp_path / "cli.mid"
    assert main(["render", str(score), "-o", str(out), "--style", "tiny", "--seed", "2"]) == 0
    assert r.content == out.read_bytes()
    mxl = _post(client, score, seed="2", format="mxl")
    assert mxl.status_code == 200 and mxl.content[:2] == b"PK"  # a zip


@pytest.mark.parametrize(("fields", "expected"), [
    ({"strength": "2"}, "strength must be between 0 and 1"),
    ({"sweeps": "0"}, "sweeps must be at least 1"),
    ({"strength": "lots"}, "strength: Input should be a valid number"),
    ({"schedule": "fast"}, "schedule:"),
    ({"bars": "9-3"}, "bad bar range"),
    ({"chords": "C | G", "reharmonize": "true"}, "exclude each other"),
    ({"style": "../../etc"}, "unknown style '../../etc'"),
    ({"style_dir": "/etc"}, "style_dir: Extra inputs are not permitted"),
    ({"threads": "64"}, "threads: Extra inputs are not permitted"),
    ({"format": "pdf"}, "format:"),
])
def test_bad_options_are_one_line_422s(client: TestClient, fields: dict, expected: str) -> None:
    r = _post(client, **fields)
    assert r.status_code == 422
    assert expected in _one_line_error(r)


@pytest.mark.parametrize("name", ["corrupt.mid", "truncated.mid", "not_midi.mid", "drums_only.mid"])
def test_a_corrupt_file_is_a_one_line_422(client: TestClient, name: str) -> None:
    r = _post(client, FIXTURES / name, seed="1")
    assert r.status_code == 422
    line = _one_line_error(r)
    assert "styletx-serve-" not in line  # the private folder is never shown


def test_upload_names_never_reach_server_paths(client: TestClient) -> None:
    r = client.post("/v1/transfer", data={"style": "tiny", "seed": "1"},
                    files={"file": ("../../../tmp/evil.mid", SONG.read_bytes())})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="evil (tiny).mid"'
    r = client.post("/v1/transfer", data={"style": "tiny"},
                    files={"file": ("song.exe", SONG.read_bytes())})
    assert r.status_code == 422 and "send a file named .mid" in _one_line_error(r)


def test_limits_answer_413_and_422(tiny_style: str) -> None:
    settings = ServiceSettings(max_request_bytes=2048, max_bars=4, max_seconds=0.001)
    with TestClient(create_app(settings)) as c:
        big = c.post("/v1/transfer", data={"style": "tiny"},
                     files={"file": ("big.mid", SONG.read_bytes() + b"\0" * 4096)})
        assert big.status_code == 413 and "over the service's limit" in _one_line_error(big)
        bars = _post(c, FIXTURES / "meter_2_4.mid")
        assert bars.status_code == 422 and "8 bars, over the service's limit of 4" in _one_line_error(bars)
        slow = _post(c)  # 4 bars: within the bar limit, past the time limit
        assert slow.status_code == 422 and "limit of 0.001 s per request" in _one_line_error(slow)


def test_token_is_required_when_set(tiny_style: str) -> None:
    with TestClient(create_app(ServiceSettings(token="s3cret"))) as c:
        assert c.get("/v1/health").status_code == 401
        wrong = c.get("/v1/health", headers={"Authorization": "Bearer s3cre"})
        assert wrong.status_code == 401 and "wrong token" in _one_line_error(wrong)
        assert c.get("/v1/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_cors_is_off_unless_asked(tiny_style: str) -> None:
    origin = {"Origin": "http://example.org"}
    with TestClient(create_app(ServiceSettings())) as c:
        assert "access-control-allow-origin" not in c.get("/v1/health", headers=origin).headers
    with TestClient(create_app(ServiceSettings(cors_origins=("http://example.org",)))) as c:
        allowed = c.get("/v1/health", headers=origin).headers
        assert allowed["access-control-allow-origin"] == "http://example.org"


def test_a_non_local_bind_needs_a_token(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("STYLETX_TOKEN", raising=False)
    with pytest.raises(Exception, match="not a loopback address"):
        ServiceSettings(host="192.0.2.1")
    assert main(["serve", "--host", "192.0.2.1"]) == 2
    assert "needs a token" in capsys.readouterr().err


def test_eval_answers_the_cli_report_card(client: TestClient, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mid"
    assert main(["render", str(SONG), "-o", str(out), "--style", "tiny", "--seed", "2"]) == 0
    capsys.readouterr()
    r = client.post("/v1/eval", data={"style": "tiny"},
                    files={"input": (SONG.name, SONG.read_bytes()), "output": ("out.mid", out.read_bytes())})
    assert r.status_code == 200, r.text
    assert main(["eval", str(SONG), str(out), "--style", "tiny", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    served = r.json()
    assert (served.pop("input_file"), served.pop("output_file")) == (SONG.name, "out.mid")
    assert {k: v for k, v in cli.items() if not k.endswith("_file")} == served


def test_render_options_are_offered_under_the_same_names_and_defaults() -> None:
    """Every ``styletx render`` option is a form field with the CLI's default, or is one the
    service decides itself (paths, threads, device)."""
    parser = build_parser()
    render = next(a for a in parser._subparsers._group_actions[0].choices.items()
                  if a[0] == "render")[1]
    server_side = {"inputs", "output", "style_dir", "style_from", "save_style", "adapt_seconds",
                   "adapt_steps", "threads", "device", "force", "print_chords", "wav", "verbose", "help",
                   "variants"}  # a response carries one file
    fields = RenderForm.model_fields
    for action in render._actions:
        if action.dest in server_side:
            continue
        assert action.dest in fields, f"render's {action.option_strings} is missing from the service"
        default = action.default
        if action.dest == "style":
            from styletx.styles import DEFAULT_STYLE

            default = DEFAULT_STYLE  # the CLI's None means the default style
        if not isinstance(action, argparse._StoreFalseAction):  # --drop-drums shares keep_drums
            assert fields[action.dest].default == default, action.dest
    assert set(fields) - {a.dest for a in render._actions} == {"file", "format"}


@dataclass(frozen=True)
class _Exit:
    code: int
    slot: int = 0


def _exit_worker(job: _Exit) -> None:
    os._exit(job.code)  # a worker killed mid-job (out of memory, say)


def test_the_pool_restarts_after_a_worker_dies(tiny_style: str) -> None:
    from styletx.service.jobs import EvalJob, run_eval
    from styletx.service.pool import JobPool

    async def never() -> bool:
        return False

    async def scenario() -> dict:
        pool = JobPool(1, 0)
        try:
            with pytest.raises(RuntimeError, match="worker process died"):
                await pool.run(_exit_worker, _Exit(3), never)
            assert pool.busy == 0
            return await pool.run(run_eval, EvalJob(SONG, SONG, tiny_style), never)
        finally:
            pool.shutdown()

    assert asyncio.run(scenario())["output"]["melody_exact"] == 1.0


# ------------------------------------------------------------------ real servers


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    """A ``styletx serve`` process on loopback, its URL and its log."""

    def __init__(self, tmp: Path, models: Path, host: str, *args: str) -> None:
        self.log = tmp / f"serve-{host}.log"
        port = _free_port(host)
        self.url = f"http://{host}:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "STYLETX_MODELS": str(models)}
        env.pop("STYLETX_TOKEN", None)
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "styletx", "serve", "--host", host, "--port", str(port), *args],
                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.headers: dict[str, str] = {}

    def wait_up(self, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/v1/health", headers=headers, timeout=2).status_code:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def health(self) -> dict:
        return httpx.get(f"{self.url}/v1/health", headers=self.headers, timeout=5).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def _servers(tmp_path_factory: pytest.TempPathFactory, _tiny_models: Path) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("serve")
    local = Server(tmp, _tiny_models, "127.0.0.1", "--jobs", "2", "--queue", "6")
    remote = Server(tmp, _tiny_models, "127.0.0.2", "--jobs", "1", "--queue", "0", "--token", "T0k3n")
    remote.headers = {"Authorization": "Bearer T0k3n"}
    try:
        local.wait_up()
        remote.wait_up(remote.headers)
        yield {"local": local, "remote": remote}
    finally:
        local.stop()
        remote.stop()


def _send(url: str, headers: dict[str, str] | None = None, timeout: float = 120, **fields: str) -> Any:
    return httpx.post(f"{url}/v1/transfer", headers=headers, timeout=timeout,
                      files={"file": (SONG.name, SONG.read_bytes())},
                      data={"style": "tiny", **fields})


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_eight_concurrent_requests(_servers: dict) -> None:
    server = _servers["local"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _send(server.url, seed="5", sweeps="2"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.content for a in answers}) == 1  # same seed, same bytes, whichever worker
    ids = {a.headers["x-request-id"] for a in answers}
    assert len(ids) == 8
    # each line is written just after its answer is sent
    assert _wait_for(lambda: all(f"{i} POST /v1/transfer 200" in server.log.read_text() for i in ids), 10)


def test_a_full_pool_answers_429_with_retry_after(_servers: dict) -> None:
    server = _servers["remote"]  # one worker, no queue
    slow = threading.Thread(target=_swallow, args=(server,), kwargs=SLOW)
    slow.start()
    try:
        assert _wait_for(lambda: server.health()["busy"] == 1, 20)
        full = _send(server.url, server.headers)
        assert full.status_code == 429 and int(full.headers["retry-after"]) >= 1
        assert "busy" in _one_line_error(full)
    finally:
        slow.join()


def _swallow(server: Server, **fields: str) -> None:
    """Send a request and give up after 3 s (the client disconnects)."""
    try:
        _send(server.url, server.headers, timeout=3, **fields)
    except httpx.TimeoutException:
        pass


def test_a_client_that_disconnects_cancels_its_job(_servers: dict) -> None:
    server = _servers["local"]
    t0 = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        _send(server.url, timeout=2, seed="1", **SLOW)
    # The job is stopped at its next sampler step: its slot is free long before the
    # 15-20 s the render would take.
    assert _wait_for(lambda: server.health()["busy"] == 0, 8), server.health()
    assert time.monotonic() - t0 < 12
    assert _wait_for(lambda: "POST /v1/transfer 499" in server.log.read_text(), 5)


def test_a_non_local_bind_checks_the_token(_servers: dict) -> None:
    server = _servers["remote"]
    assert _wait_for(lambda: server.health()["busy"] == 0, 30)
    missing = httpx.get(f"{server.url}/v1/styles", timeout=5)
    wrong = httpx.get(f"{server.url}/v1/styles", headers={"Authorization": "Bearer t0k3n"}, timeout=5)
    assert missing.status_code == wrong.status_code == 401
    assert _send(server.url, {"Authorization": "Bearer nope"}).status_code == 401
    assert _send(server.url, server.headers, seed="3").status_code == 200


def test_ctrl_c_drains_running_jobs(_servers: dict) -> None:
    server = _servers["local"]
    answer: dict[str, Any] = {}
    running = threading.Thread(target=lambda: answer.update(r=_send(server.url, seed="4", sweeps="20")))
    running.start()
    assert _wait_for(lambda: server.health()["busy"] == 1, 20)
    server.proc.send_signal(signal.SIGINT)
    running.join(120)
    assert answer["r"].status_code == 200
    assert server.proc.wait(60) == 0
    assert "stopped" in server.log.read_text()
