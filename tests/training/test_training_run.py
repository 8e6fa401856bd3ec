"""Training runs on a tiny model: 2-epoch smoke run through the CLI, exact resume after a kill, configs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.errors import InputError
from magscreen.potential import MagneticCalculator
from magscreen.training.config import load_train_config
from magscreen.training.trainer import Trainer, build_model


def _config(tmp_path: Path, folder: Path, name: str, stages: list[dict]) -> Path:
    config = {
        "seed": 11,
        "output": f"runs/{name}",
        "data": {"train": [str(folder)], "validation": [str(folder)], "format": "deepmd_spin"},
        "model": {"small": True},
        "stages": stages,
        "ema_decay": 0.5,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


FROZEN = {"name": "frozen", "epochs": 2, "lr": 0.01, "backbone": "frozen", "batch_size": 2}
FULL = {
    "name": "full",
    "epochs": 1,
    "lr": 0.003,
    "backbone": "trainable",
    "losses": ["energy", "forces", "magnetic_forces"],
    "batch_size": 2,
}


def test_smoke_training_two_epochs_through_cli(tmp_path, deepmd_folder):
    path = _config(tmp_path, deepmd_folder, "smoke", [FROZEN])
    result = CliRunner().invoke(app, ["train", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "smoke"
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2]
    assert (run / "learning_curve.png").stat().st_size > 1000
    calculator = MagneticCalculator(run / "best.pt")
    assert calculator.magnetic_domain == ("Ni",)  # elements with non-zero moments in training
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"energy", "forces", "magnetic_forces", "magnetic_forces_transverse"} <= set(metrics["validation"])
    assert metrics["reference_energies"]["composition_rank"] == 1  # one composition: min-norm refs


#: Child process: train, and in the first batch after an epoch was saved (mid-epoch, with weights
#: that differ from ``last.pt``) write the position to the marker file and wait to be killed.
TRAIN_UNTIL_KILLED = """
import sys, time
from pathlib import Path
from magscreen.training.config import load_train_config
from magscreen.training.ema import ExponentialMovingAverage
from magscreen.training.trainer import Trainer

trainer = Trainer(load_train_config(sys.argv[1]), progress=False)
update = ExponentialMovingAverage.update

def update_then_wait(ema, model):  # runs after every optimiser step
    update(ema, model)
    if (trainer.output / "last.pt").is_file():
        Path(sys.argv[2]).write_text(repr(trainer.position))
        time.sleep(600)

ExponentialMovingAverage.update = update_then_wait
trainer.run()
"""


def test_resume_after_sigkill_mid_epoch_matches_uninterrupted_run(tmp_path, deepmd_folder):
    """SIGKILL a training process in the middle of its second epoch, resume from ``last.pt``:
    weights, EMA and history equal an uninterrupted run's."""
    straight = Trainer(
        load_train_config(_config(tmp_path, deepmd_folder, "a", [FROZEN, FULL])), progress=False
    )
    straight.run()

    path = _config(tmp_path, deepmd_folder, "b", [FROZEN, FULL])
    marker = tmp_path / "mid-epoch"
    log = tmp_path / "child.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            [sys.executable, "-c", TRAIN_UNTIL_KILLED, str(path), str(marker)],
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while not marker.is_file() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = child.poll() is None
        child.kill()  # SIGKILL
        child.wait()
    assert alive and marker.is_file(), f"training did not reach its second epoch: {log.read_text()[-2000:]}"
    assert child.returncode == -signal.SIGKILL
    assert marker.read_text() == "(0, 1)"  # killed inside epoch 2 of stage 1, after epoch 1 was saved
    config = load_train_config(path)
    saved = torch.load(tmp_path / "runs" / "b" / "last.pt", weights_only=False)
    assert tuple(saved["position"]) == (0, 1) and len(saved["history"]) == 1

    resumed = Trainer(config, progress=False)
    resumed.run()
    assert resumed.position == straight.position == (2, 0)
    a = torch.load(tmp_path / "runs" / "a" / "last.pt", weights_only=False)
    b = torch.load(tmp_path / "runs" / "b" / "last.pt", weights_only=False)
    for name, tensor in a["model"].items():
        torch.testing.assert_close(b["model"][name], tensor, rtol=1e-9, atol=1e-12, msg=name)
    for name, tensor in a["ema"]["shadow"].items():
        torch.testing.assert_close(b["ema"]["shadow"][name], tensor, rtol=1e-9, atol=1e-12, msg=name)
    assert [r["train_loss"] for r in b["history"]] == pytest.approx(
        [r["train_loss"] for r in a["history"]], rel=1e-9
    )


def test_frozen_backbone_cannot_train_forces(tmp_path, deepmd_folder):
    path = _config(tmp_path, deepmd_folder, "bad", [{**FROZEN, "losses": ["energy", "forces"]}])
    with pytest.raises(InputError, match=r"bad\.yaml: stages\.0\.losses: .*position derivatives"):
        load_train_config(path)


def test_spin_invariants_switch_reaches_the_model_and_its_checkpoint(tmp_path, deepmd_folder):
    """model.spin_invariants: false builds the Heisenberg-pairs-plus-on-site model (physics:
    tests/potential/test_bilinear_exchange.py), and a saved model loads as one."""
    path = _config(tmp_path, deepmd_folder, "pairs", [FROZEN])
    config = yaml.safe_load(path.read_text())
    config["model"]["spin_invariants"] = False
    path.write_text(yaml.safe_dump(config))
    model = build_model(load_train_config(path))
    assert not model.hyper.spin_invariants and model.magnetic.exchange_width == 0
    model.save(tmp_path / "pairs.pt")
    assert not type(model).load(tmp_path / "pairs.pt").hyper.spin_invariants


def test_bilinear_channels_reach_the_pair_heads_and_the_checkpoint(tmp_path, deepmd_folder):
    """model.bilinear_channels sets the terms of J = sum_k R_k(r) g_k(h_i) g_k(h_j): the pair head's
    outputs (J and K per term and pair slot) and the node factors grow with it."""
    path = _config(tmp_path, deepmd_folder, "channels", [FROZEN])
    config = yaml.safe_load(path.read_text())
    config["model"]["bilinear_channels"] = 6
    path.write_text(yaml.safe_dump(config))
    model = build_model(load_train_config(path))
    slots = model.magnetic.hyper.pair_slots
    assert model.magnetic.pair_radial[-1].out_features == 2 * 6 * slots
    assert model.magnetic.pair_node.out_features == 6
    model.save(tmp_path / "channels.pt")
    assert type(model).load(tmp_path / "channels.pt").hyper.bilinear_channels == 6


def test_element_ridge_needs_an_element_head(tmp_path, deepmd_folder):
    stage = {
        **FROZEN,
        "optimizer": "least_squares",
        "epochs": 1,
        "element_ridge": {"Mn": {"node": 1, "pair": 1}},
    }
    path = _config(tmp_path, deepmd_folder, "ridge", [stage])
    with pytest.raises(InputError, match=r"ridge\.yaml: stages\.0\.element_ridge: .*no element head"):
        load_train_config(path)


def test_source_weights_name_training_sources_and_need_least_squares(tmp_path, deepmd_folder):
    least_squares = {**FROZEN, "optimizer": "least_squares", "epochs": 1}
    path = _config(tmp_path, deepmd_folder, "weights", [least_squares])
    config = yaml.safe_load(path.read_text())
    config["data"]["source_weights"] = {str(deepmd_folder): 3.0}
    path.write_text(yaml.safe_dump(config))
    assert load_train_config(path).data.source_weights == {deepmd_folder.resolve(): 3.0}
    config["data"]["source_weights"] = {str(tmp_path / "elsewhere.extxyz"): 3.0}
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match=r"weights\.yaml: data\.source_weights: .*elsewhere.*paths listed"):
        load_train_config(path)
    config["data"]["source_weights"] = {str(deepmd_folder): 3.0}
    config["stages"] = [FROZEN]
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match=r"data\.source_weights: .*adam"):
        load_train_config(path)


def test_unknown_key_names_path(tmp_path, deepmd_folder):
    path = _config(tmp_path, deepmd_folder, "typo", [{**FROZEN, "epoch": 3}])
    with pytest.raises(InputError, match=r"typo\.yaml: stages\.0\.epoch"):
        load_train_config(path)


def test_empty_training_split(tmp_path, deepmd_folder):
    empty = tmp_path / "empty.xyz"
    empty.write_text("")
    config = yaml.safe_load(_config(tmp_path, deepmd_folder, "empty", [FROZEN]).read_text())
    config["data"] = {"train": [str(deepmd_folder)], "validation": [], "format": "deepmd_spin"}
    path = tmp_path / "empty.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(
        InputError, match=r"empty\.yaml: data\.validation: the validation split holds no frames"
    ):
        Trainer(load_train_config(path), source=path, progress=False)


def test_feature_cache_is_reused_and_gives_the_same_run(tmp_path, deepmd_folder):
    """A second run with the same backbone reads the stored features instead of recomputing them."""
    configs = []
    for name in ("first", "second"):
        config = yaml.safe_load(_config(tmp_path, deepmd_folder, name, [FROZEN]).read_text())
        config["feature_cache"] = "features"
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        configs.append(load_train_config(path))
    first = Trainer(configs[0], progress=False).run()
    assert len(list((tmp_path / "features").glob("backbone-*.pt"))) == 1
    second = Trainer(configs[1], progress=False)

    def refuse(graph):
        raise AssertionError("backbone features recomputed")

    second.model.backbone_cache = refuse
    result = second.run()
    assert result.metrics["validation"]["energy"]["mae"] == pytest.approx(
        first.metrics["validation"]["energy"]["mae"], rel=1e-12
    )


def test_finished_run_extends_with_appended_stage_but_refuses_changed_one(tmp_path, deepmd_folder):
    Trainer(load_train_config(_config(tmp_path, deepmd_folder, "grow", [FROZEN])), progress=False).run()
    longer = Trainer(
        load_train_config(_config(tmp_path, deepmd_folder, "grow", [FROZEN, FULL])), progress=False
    )
    longer.run()
    assert [r["stage"] for r in longer.history] == ["frozen", "frozen", "full"]
    changed = _config(tmp_path, deepmd_folder, "grow", [{**FROZEN, "lr": 0.02}])
    with pytest.raises(
        InputError, match=r"last\.pt: config: the run folder holds a run with a different config"
    ):
        Trainer(load_train_config(changed), progress=False).run()


READOUT = {
    "name": "readout",
    "epochs": 1,
    "lr": 0.003,
    "backbone": "frozen",
    "optimizer": "least_squares",
    "losses": ["energy", "forces", "magnetic_forces"],
}


def test_least_squares_stage_lowers_the_training_loss_through_cli(tmp_path, deepmd_folder):
    """After an Adam stage, one exact solve for the readout cannot raise the loss it minimises."""
    # the score's terms (energy, magnetic forces) and nothing else, so the solve minimises the score
    stages = [FROZEN, {**READOUT, "losses": ["energy", "magnetic_forces"]}]
    path = _config(tmp_path, deepmd_folder, "readout", stages)
    result = CliRunner().invoke(app, ["train", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    history = json.loads((tmp_path / "runs" / "readout" / "history.json").read_text())
    assert [r["stage"] for r in history] == ["frozen", "frozen", "readout"]
    # train = validation here: the solve minimises the validation score's terms as well
    assert history[-1]["validation_score"] <= history[-2]["validation_score"] + 1e-9


def test_least_squares_stage_needs_a_frozen_backbone_and_one_epoch(tmp_path, deepmd_folder):
    path = _config(tmp_path, deepmd_folder, "bad_ls", [{**READOUT, "backbone": "trainable"}])
    with pytest.raises(InputError, match=r"bad_ls\.yaml: stages\.0: .*least_squares"):
        load_train_config(path)
