"""Data-efficiency study: backbone features shared between runs give the same result as fresh runs."""

from __future__ import annotations

import pytest

from magscreen.training.config import DataConfig, ModelConfig, StageConfig, TrainConfig
from magscreen.training.study import run_study, study_table
from magscreen.training.trainer import Trainer


def _config(folder, output) -> TrainConfig:
    return TrainConfig(
        seed=5,
        output=output,
        data=DataConfig(format="deepmd_spin", train=[folder], validation=[folder], epoch_size=4),
        model=ModelConfig(small=True),
        stages=[StageConfig(name="frozen", epochs=2, lr=0.01, batch_size=2)],
    )


def test_shared_caches_reproduce_independent_runs(tmp_path, deepmd_folder):
    rows = run_study(
        _config(deepmd_folder, tmp_path / "study"), sizes=[2, 3], inits=["scratch"], progress=False
    )
    assert [r["n_train"] for r in rows] == [2, 3]
    alone = _config(deepmd_folder, tmp_path / "alone")
    alone.data.max_train_frames = 3
    reference = Trainer(alone, progress=False).run().metrics["validation"]
    for name, values in reference.items():
        assert rows[1]["validation"][name]["mae"] == pytest.approx(values["mae"], rel=1e-9), name
    table = study_table(rows)
    assert table.splitlines()[2].startswith("| 2 |")


def test_study_refuses_trainable_backbone(tmp_path, deepmd_folder):
    config = _config(deepmd_folder, tmp_path / "study")
    config.stages[0].backbone = "trainable"
    with pytest.raises(ValueError, match="frozen"):
        run_study(config, sizes=[2], inits=["scratch"], progress=False)


def test_caches_of_other_frames_are_ignored(tmp_path, deepmd_folder):
    """Caches handed over for frames outside the run (a bigger study run's) do not break it."""
    big = Trainer(_config(deepmd_folder, tmp_path / "big"), progress=False)
    big.run()
    small = _config(deepmd_folder, tmp_path / "small")
    small.data.max_train_frames = 1
    small.data.validation = small.data.train = [deepmd_folder]
    trainer = Trainer(small, progress=False, caches={**big.raw_caches(), "elsewhere#0": None})
    assert set(trainer.raw_caches()) <= {f.source for f in trainer.train_frames + trainer.validation_frames}
    trainer.run()
