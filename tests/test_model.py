import torch

from trainer.model import CharLSTM, ModelConfig, Stepper


def test_fast_step_equals_nn_lstm():
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=50, embed_dim=8, hidden_size=32, num_layers=3)).eval()
    stepper = Stepper(model)
    ids = torch.randint(0, 50, (4, 40))
    with torch.no_grad():
        reference, (h_ref, c_ref) = model(ids)
    state = stepper.initial_state(4)
    for t in range(ids.shape[1]):
        logits, state = stepper.step(ids[:, t], state)
        assert torch.allclose(logits, reference[:, t], atol=1e-5)
    assert torch.allclose(state[0], h_ref, atol=1e-5) and torch.allclose(state[1], c_ref, atol=1e-5)


def test_advance_long_and_short_paths_agree():
    torch.manual_seed(1)
    model = CharLSTM(ModelConfig(vocab_size=30, embed_dim=8, hidden_size=16, num_layers=2)).eval()
    stepper = Stepper(model)
    ids = torch.randint(0, 30, (100,)).tolist()
    long_logits, long_state = stepper.advance(ids, stepper.initial_state(1))
    state = stepper.initial_state(1)
    for chunk in range(0, 100, 10):
        short_logits, state = stepper.advance(ids[chunk : chunk + 10], state)
    assert torch.allclose(long_logits, short_logits, atol=1e-5)
    assert torch.allclose(long_state[0], state[0], atol=1e-5)
