import numpy as np
import pytest
import torch

from trainer import stepper as stepper_module
from trainer.config import ModelConfig
from trainer.model import CharLSTM
from trainer.stepper import Stepper


def numpy_stepper(model: CharLSTM) -> Stepper:
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    return Stepper(model.config, weights)


# The default, and one that splits the batch of 4 in two products (3 columns, then 1).
@pytest.mark.parametrize("small_product", [stepper_module.SMALL_PRODUCT, 3 * 128 * 32])
def test_numpy_step_equals_nn_lstm(monkeypatch, small_product):
    monkeypatch.setattr(stepper_module, "SMALL_PRODUCT", small_product)
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=50, embed_dim=8, hidden_size=32, num_layers=3)).eval()
    stepper = numpy_stepper(model)
    ids = torch.randint(0, 50, (4, 40))
    with torch.no_grad():
        reference, (h_ref, c_ref) = model(ids)
    state = stepper.initial_state(4)
    for t in range(ids.shape[1]):
        logits, state = stepper.step(ids[:, t].numpy(), state)
        np.testing.assert_allclose(logits, reference[:, t].numpy(), atol=1e-5)
    np.testing.assert_allclose(state[0], h_ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(state[1], c_ref.numpy(), atol=1e-5)


def test_runs_along_a_text_equal_nn_lstm_and_single_steps():
    torch.manual_seed(1)
    model = CharLSTM(ModelConfig(vocab_size=30, embed_dim=8, hidden_size=16, num_layers=2)).eval()
    stepper = numpy_stepper(model)
    ids = torch.randint(0, 30, (600,))  # more than one RUN_CHUNK
    with torch.no_grad():
        reference, (h_ref, c_ref) = model(ids.unsqueeze(0))
    ids = ids.tolist()
    long_logits, long_state = stepper.advance(ids, stepper.initial_state(1))
    np.testing.assert_allclose(long_logits[0], reference[0, -1].numpy(), atol=1e-5)
    np.testing.assert_allclose(long_state[0], h_ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(long_state[1], c_ref.numpy(), atol=1e-5)
    state = stepper.initial_state(1)
    for chunk in range(0, 600, 10):
        short_logits, state = stepper.advance(ids[chunk : chunk + 10], state)
    np.testing.assert_allclose(long_logits, short_logits, atol=1e-5)
    np.testing.assert_allclose(long_state[0], state[0], atol=1e-5)
