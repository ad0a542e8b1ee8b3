"""Tests for styletx.model.network: shapes, causality of encoder and generator, sampling, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from styletx.errors import StyleTxError
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.network import (
    HOLD,
    OFF,
    ONSET,
    StyleNet,
    resolve_device,
)
from styletx.music.chords import N_CHORD_TOKENS, NO_CHORD, Chord
from styletx.music.encoding import META_CHORD
from styletx.stylefolder.format import CONFIG_FILE, FORMAT_FILE, WEIGHTS_FILE, StyleFolder
from styletx.training.train import save_checkpoint

B, T = 2, 10
WEIGHTS = TrainConfig().class_weights


def small_config(**kw: object) -> ModelConfig:
    """A tiny network so that every test runs in well under a second."""
    base: dict[str, object] = dict(
        pitch_lo=48, pitch_hi=64, melody_dim=8, accomp_dim=8, beat_step_dim=4,
        bar_step_dim=4, key_dim=4, bar_len_dim=2, frame_dim=16, lstm_hidden=16,
        center_dim=8, cond_dim=16, gen_channels=8, gen_dilations=(1, 2, 4, 8),
        pitch_cond_channels=2, pitch_emb_dim=4, dropout=0.0,
    )
    base.update(kw)
    return ModelConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
def model() -> StyleNet:
    torch.manual_seed(0)
    m = StyleNet(small_config())
    # random (not zero) start/end vectors so edge frames are tested too
    with torch.no_grad():
        m.past_start.normal_()
        m.future_end.normal_()
    return m.eval()


def make_batch(cfg: ModelConfig, b: int = B, t: int = T, seed: int = 1) -> tuple[torch.Tensor, ...]:
    """Random but well-formed grid tensors (holds only follow sounding cells)."""
    g = torch.Generator().manual_seed(seed)
    P = cfg.n_pitches
    on = torch.rand((b, t, P), generator=g) < 0.15
    keep = torch.rand((b, t, P), generator=g) < 0.6
    accomp = torch.zeros((b, t, P), dtype=torch.long)
    for i in range(t):
        accomp[:, i][on[:, i]] = ONSET
        if i > 0:
            held = keep[:, i] & (accomp[:, i - 1] != OFF) & ~on[:, i]
            accomp[:, i][held] = HOLD
    pitch = torch.randint(60, 80, (b, t), generator=g)
    melody = torch.where(torch.rand((b, t), generator=g) < 0.5, 1 + pitch, 129 + pitch)
    meta = torch.stack(
        [
            torch.arange(t).expand(b, t) % cfg.steps_per_beat,
            torch.arange(t).expand(b, t) % 16,
            torch.randint(0, 24, (b, 1), generator=g).expand(b, t),
            torch.full((b, t), 4),
            torch.randint(0, N_CHORD_TOKENS, (b, t), generator=g),
        ],
        dim=-1,
    )
    return melody, accomp, meta


def test_shapes_and_loss_stats(model: StyleNet) -> None:
    melody, accomp, meta = make_batch(model.cfg)
    P = model.cfg.n_pitches
    logits = model(melody, accomp, meta)
    assert logits.shape == (B, T, P, 3)
    assert model.encode(melody, accomp, meta).shape == (B, T, model.cfg.cond_dim)
    mask = torch.ones((B, T), dtype=torch.bool)
    mask[1, 6:] = False
    loss, stats = model.loss(logits, accomp, WEIGHTS, mask)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert stats["n_cells"] == (B * T - 4) * P
    assert 0.0 <= stats["onset_acc"] <= 1.0
    # the unweighted NLL per frame, summed over pitches, computed independently of loss()
    logp = torch.log_softmax(logits.detach(), dim=-1)
    nll = -logp.gather(-1, accomp[..., None]).squeeze(-1).sum(-1)
    assert nll.shape == (B, T)
    assert stats["nll"] == pytest.approx(float(nll[mask].sum()) / stats["n_cells"], rel=1e-5)
    # a subset of frames gives the same logits as the full pass
    sel = torch.zeros((B, T), dtype=torch.bool)
    sel[0, 3] = sel[1, 7] = True
    sub = model(melody, accomp, meta, frames=sel)
    assert sub.shape == (2, P, 3)
    torch.testing.assert_close(sub, logits[sel])
    model.loss(sub, accomp[sel], WEIGHTS)


def test_generator_is_autoregressive_over_pitch(model: StyleNet) -> None:
    melody, accomp, meta = make_batch(model.cfg)
    P = model.cfg.n_pitches
    base = model(melody, accomp, meta)
    t = 4
    for p in (0, 5, P - 2):
        changed = accomp.clone()
        changed[:, t, p + 1 :] = (changed[:, t, p + 1 :] + 1) % 2  # flip off <-> onset above p
        out = model(melody, changed, meta)
        torch.testing.assert_close(out[:, t, : p + 1], base[:, t, : p + 1], rtol=0, atol=0)
    # a lower pitch does influence higher ones
    changed = accomp.clone()
    changed[:, t, 2] = ONSET if int(accomp[0, t, 2]) != ONSET else OFF
    out = model(melody, changed, meta)
    assert not torch.allclose(out[0, t, 3:], base[0, t, 3:])


def test_encoder_never_sees_own_frame(model: StyleNet) -> None:
    melody, accomp, meta = make_batch(model.cfg)
    cond = model.encode(melody, accomp, meta)
    for t in (0, 4, T - 1):
        changed = accomp.clone()
        changed[:, t] = torch.randint(0, 2, changed[:, t].shape)
        new = model.encode(melody, changed, meta)
        torch.testing.assert_close(new[:, t], cond[:, t], rtol=0, atol=0)
        others = [i for i in range(T) if i != t]
        assert not torch.allclose(new[:, others], cond[:, others])
    # accomp at t-1 reaches cond[t]
    changed = accomp.clone()
    changed[:, 3] = ONSET
    assert not torch.allclose(model.encode(melody, changed, meta)[:, 4], cond[:, 4])
    # the melody at t reaches the logits at t
    logits = model(melody, accomp, meta)
    mel2 = melody.clone()
    mel2[:, 4] = 1 + 50
    assert not torch.allclose(model(mel2, accomp, meta)[:, 4], logits[:, 4])


def test_chord_reaches_frame_and_generator(model: StyleNet) -> None:
    """The chord at t is an input to frame t: through the encoder's centre and per pitch."""
    melody, accomp, meta = make_batch(model.cfg)
    logits = model(melody, accomp, meta)
    other = meta.clone()
    other[:, 4, META_CHORD] = (meta[:, 4, META_CHORD] + 8 * 6) % (N_CHORD_TOKENS - 1) + 1
    changed = model(melody, accomp, other)
    assert not torch.allclose(changed[:, 4], logits[:, 4])
    # per-pitch chord flags: the tone and root rows of a token mark exactly its pitch classes
    c_major = Chord(0, "").token
    flags = model.chord_flags[c_major]
    pcs = model.pitches % 12
    assert torch.equal(flags[:, 0].bool(), (pcs == 0) | (pcs == 4) | (pcs == 7))
    assert torch.equal(flags[:, 1].bool(), pcs == 0)
    assert not model.chord_flags[NO_CHORD].any()


def _sample_inputs(model: StyleNet, n: int = 12) -> tuple[torch.Tensor, ...]:
    melody, accomp, meta = make_batch(model.cfg, b=2, t=n // 2 + 2, seed=3)
    cond = model.encode(melody, accomp, meta)[:, 1:-1].reshape(n, -1)
    prev = accomp[:, :-2].reshape(n, -1)
    nxt = accomp[:, 2:].reshape(n, -1)
    chords = meta[:, 1:-1, META_CHORD].reshape(n)
    return cond, melody[:, 1:-1].reshape(n), chords, prev, nxt


@pytest.mark.parametrize("greedy", [False, True])
def test_incremental_sampling_matches_full_generator(model: StyleNet, greedy: bool) -> None:
    cond, mel, chords, prev, nxt = _sample_inputs(model)
    g = torch.Generator().manual_seed(0)
    states, raw = model.sample_frames(
        cond, mel, chords, prev, nxt, temperature=1.3, generator=g, greedy=greedy
    )
    full = model.generator_logits(cond, mel, chords, prev, nxt, states)
    torch.testing.assert_close(
        raw.log_softmax(-1), full.log_softmax(-1), rtol=0, atol=1e-5
    )
    assert not ((states == HOLD) & (prev == OFF)).any()


def test_sampling_seed_greedy_fixed(model: StyleNet) -> None:
    cond, mel, chords, prev, nxt = _sample_inputs(model)
    kw = dict(temperature=1.0)

    def draw(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return model.sample_frames(cond, mel, chords, prev, nxt, generator=g, **kw)[0]

    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))
    a = model.sample_frames(cond, mel, chords, prev, nxt, temperature=1.0, generator=None, greedy=True)[0]
    b = model.sample_frames(cond, mel, chords, prev, nxt, temperature=1.0, generator=None, greedy=True)[0]
    assert torch.equal(a, b)
    out = model.sample_frames(
        cond, mel, chords, prev, nxt, temperature=1.0, generator=torch.Generator().manual_seed(2),
    )[0]
    assert not ((out == HOLD) & (prev == OFF)).any()  # a hold never follows silence
    with pytest.raises(ValueError):
        model.sample_frames(cond, mel, chords, prev, nxt, temperature=0.0, generator=None)[0]


def test_checkpoint_round_trip(model: StyleNet, tmp_path: Path) -> None:
    melody, accomp, meta = make_batch(model.cfg)
    save_checkpoint(model, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {WEIGHTS_FILE, CONFIG_FILE, FORMAT_FILE}
    loaded = StyleFolder(tmp_path).load_model()
    assert not loaded.training
    assert loaded.cfg == model.cfg
    assert sum(p.numel() for p in loaded.parameters()) == sum(p.numel() for p in model.parameters())
    torch.testing.assert_close(loaded(melody, accomp, meta), model(melody, accomp, meta))
    with pytest.raises(StyleTxError):
        StyleFolder(tmp_path / "missing").load_model()


def test_config_json_round_trip(tmp_path: Path) -> None:
    cfg = small_config(gen_dilations=[1, 2, 4, 8])
    path = tmp_path / "c.json"
    path.write_text(cfg.to_json())
    again = ModelConfig.load_json(path)
    assert again == cfg
    assert again.gen_dilations == (1, 2, 4, 8)
    assert again.n_pitches == 16
    d = json.loads(path.read_text())
    d["typo_field"] = 1
    with pytest.raises(StyleTxError, match="typo_field"):
        ModelConfig.from_dict(d)
    assert ModelConfig().n_pitches == 48
    # a config from before the architecture/training split is converted, not read leniently
    old = {**cfg.to_dict(), "style": "jazz", "train_frame_fraction": 0.5, "class_weights": [1, 4, 1.5]}
    with pytest.raises(StyleTxError, match="convert_checkpoints"):
        ModelConfig.from_dict(old)


def test_train_config_round_trip_and_checks() -> None:
    tc = TrainConfig(style="jazz", class_weights=[1, 5, 2], frame_fraction=0.5)
    assert tc.class_weights == (1.0, 5.0, 2.0)
    assert TrainConfig.from_dict(json.loads(json.dumps(tc.to_dict()))) == tc
    for bad in ({"class_weights": (1.0, 0.0, 1.0)}, {"frame_fraction": 0.0}):
        with pytest.raises(StyleTxError):
            TrainConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(StyleTxError, match="pitch_lo"):
        TrainConfig.from_dict({"pitch_lo": 36})  # the grid is architecture, not training


def test_logits_do_not_depend_on_train_or_eval_mode() -> None:
    """With dropout off, train() and eval() give the same logits and the same samples:
    the class weights are in the loss only, so a forgotten .eval() cannot change sampling."""
    torch.manual_seed(3)
    model = StyleNet(small_config(dropout=0.0))
    melody, accomp, meta = make_batch(model.cfg)
    cond = model.encode(melody, accomp, meta)[0]
    args = (cond, melody[0], meta[0, :, META_CHORD], accomp[0], accomp[0])
    outputs = []
    for mode in (True, False):
        model.train(mode)
        states, raw = model.sample_frames(
            *args, temperature=1.0, generator=torch.Generator().manual_seed(1))
        outputs.append((model(melody, accomp, meta), states, raw))
    for a, b in zip(*outputs, strict=True):
        assert torch.equal(a, b)


def test_weighted_loss_leaves_the_logits_calibrated() -> None:
    """Minimising the class-weighted loss leaves the logits at the data's frequencies,
    not at the weighted ones (the loss adds log w to the logits)."""
    accomp = torch.tensor([[OFF, ONSET, HOLD, OFF]])  # off 1/2, onset 1/4, hold 1/4
    shared = torch.zeros(3, requires_grad=True)  # one logit vector for every cell
    opt = torch.optim.Adam([shared], lr=0.05)
    for _ in range(600):
        loss, _ = StyleNet.loss(shared.expand(1, 4, 3), accomp, (1.0, 4.0, 1.5))
        opt.zero_grad()
        loss.backward()
        opt.step()
    probs = shared.detach().softmax(-1)
    torch.testing.assert_close(probs, torch.tensor([0.5, 0.25, 0.25]), atol=2e-3, rtol=0)


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda"}
    with pytest.raises(StyleTxError):
        resolve_device("tpu")


def test_loss_decreases() -> None:
    torch.manual_seed(0)
    cfg = small_config()
    model = StyleNet(cfg)
    melody, accomp, meta = make_batch(cfg, b=4, t=16, seed=5)
    # structure to learn: an onset one octave below every melody onset, held while it holds
    accomp.zero_()
    lo = cfg.pitch_lo
    for b in range(4):
        for t in range(16):
            tok = int(melody[b, t])
            pitch = tok - 1 if tok < 129 else tok - 129
            p = pitch - 12 - lo
            if 0 <= p < cfg.n_pitches:
                accomp[b, t, p] = ONSET if tok < 129 or t == 0 else HOLD
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss, _ = model.loss(model(melody, accomp, meta), accomp, WEIGHTS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
