"""The one batched engine (reptheory.networks.stack.train_stack) on its own: budgets, stop losses and
divergences per network, each network handed over once, and its input checks."""
import numpy as np
import pytest
import torch
from torch import nn

from reptheory.networks.stack import stacked, train_stack


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(3, 8), nn.Linear(8, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        return self.out(h), h


def _nets(k):
    torch.manual_seed(0)
    return [Net() for _ in range(k)]


def _train(lr, epochs, stop_loss=None, optimizer="sgd", finished=None):
    nets = _nets(4)
    g = torch.Generator().manual_seed(1)
    X, Y = torch.randn(4, 5, 3, generator=g), torch.randn(4, 5, 1, generator=g)
    losses = torch.full((int(np.max(epochs)) + 1, 4), float("nan"), dtype=torch.float64)

    def record(e, idx, out, h):
        losses[e, idx] = 0.5 * ((out.double() - Y[idx].double()) ** 2).mean((1, 2))
        return losses[e, idx]

    ends, div, sec = train_stack(nets[0], stacked(nets, "cpu"), (X,), Y, lr, epochs, record, stop_loss=stop_loss,
                                 optimizer=optimizer, finished=finished)
    return [losses[:k, b].numpy() for b, k in enumerate(ends)], div, sec


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_each_network_ends_on_its_own_with_the_records_of_a_run_to_the_end(optimizer):
    """Budgets, a stop loss and a divergence in one stack: each network's records are, bit for bit, the first
    records of the same stack stepped to the last epoch, and each is handed over once, when it has ended."""
    lr = [0.05, 0.05, 0.05, 80.0] if optimizer == "sgd" else [0.01, 0.01, 0.01, 1e4]
    full, div_full, _ = _train(lr, 200, optimizer=optimizer)
    stop = float(np.sqrt(full[2][0] * full[2][-1]))
    seen = []
    cut, div, sec = _train(lr, [200, 60, 200, 200], stop_loss=[None, None, stop, None], optimizer=optimizer,
                           finished=lambda b, n, d, s: seen.append((b, n, d)))
    assert cut[1].size == 61                                        # the budget: records 0 ... 60
    k = int(np.argmax(full[2] < stop))
    assert cut[2].size == k + 1 and cut[2][-1] < stop <= cut[2][-2]  # the stop loss: just after the first below
    assert div[3] and not div[:3].any() and cut[3].size < 200        # the divergence: its record is dropped
    assert np.all(np.isfinite(cut[3]))
    for c, f in zip(cut, full):
        np.testing.assert_array_equal(c, f[:c.size])
    assert sorted(b for b, _, _ in seen) == [0, 1, 2, 3]            # each network once
    assert [n for _, n, _ in sorted(seen)] == [c.size for c in cut]
    order = [b for b, _, _ in seen]
    assert order.index(0) == 3 and sec[0] == max(sec)              # the one that trained longest came last


@pytest.mark.parametrize("change,field", [
    (dict(lr=[0.1, 0.1, 0.1]), "lr"), (dict(epochs=[5, 5]), "epochs"), (dict(stop_loss=[None] * 5), "stop_loss"),
    (dict(optimizer="rmsprop"), "optimizer"),
])
def test_bad_per_network_values_are_refused_naming_the_field(change, field):
    kw = dict(lr=0.1, epochs=5) | change
    with pytest.raises(ValueError, match=field):
        _train(**kw)
