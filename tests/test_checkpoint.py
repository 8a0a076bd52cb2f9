import json
import pickle
import shutil

import pytest
import torch

from trainer import checkpoint, folder
from trainer.folder import CheckpointError

# The torch model for training, numpy weights for inference: the same checks, the same messages.
LOADERS = pytest.mark.parametrize("load", [checkpoint.load, folder.load], ids=["torch", "numpy"])


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    dest = tmp_path / "model"
    shutil.copytree(tiny_model, dest)
    return dest


def test_loads(model_copy):
    ckpt = checkpoint.load(model_copy)
    assert ckpt.model.parameter_count() == folder.load(model_copy).parameter_count() > 0


@pytest.mark.parametrize(
    "name", ["config.json", "tokenizer.json", "model.safetensors", "manifest.json"]
)
@LOADERS
def test_missing_file_is_named(model_copy, name, load):
    (model_copy / name).unlink()
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.") + ": missing"):
        load(model_copy)


@LOADERS
def test_truncated_weights_are_named(model_copy, load):
    data = (model_copy / "model.safetensors").read_bytes()
    (model_copy / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated or corrupt"):
        load(model_copy)


@LOADERS
def test_mismatched_config_is_named(model_copy, load):
    config = json.loads((model_copy / "config.json").read_text())
    config["model"]["hidden_size"] += 1
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: does not match config\.json"):
        load(model_copy)


@LOADERS
def test_garbage_config_and_tokenizer(model_copy, load):
    (model_copy / "tokenizer.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"tokenizer\.json: cannot be read"):
        load(model_copy)
    (model_copy / "config.json").write_text("[]")
    with pytest.raises(CheckpointError, match=r"config\.json: not an lstm-complete model"):
        load(model_copy)


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_crafted_pickle_is_never_executed(model_copy, tmp_path):
    marker = tmp_path / "pwned"
    with open(model_copy / "training_state.pt", "wb") as fh:
        pickle.dump({"step": Exploit(str(marker))}, fh)
    with pytest.raises(CheckpointError, match=r"training_state\.pt: cannot be loaded safely"):
        checkpoint.load_training_state(model_copy)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "config.json"])
def test_a_pickle_in_place_of_a_model_file_is_never_executed(model_copy, tmp_path, name):
    """What the server loads (checkpoint.load) reads safetensors and JSON only; a pickle, even
    one saved by torch in place of the weights, is rejected as a damaged file."""
    marker = tmp_path / "pwned"
    torch.save({"weights": Exploit(str(marker))}, model_copy / name)
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
        checkpoint.load(model_copy)
    assert not marker.exists()
