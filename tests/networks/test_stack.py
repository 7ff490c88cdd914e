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

    def record(e, idx, out, h, live):
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


def _eager(net, X, Y, lr, epochs, batch, seed, optimizer):
    """One network trained alone by torch.optim in the minibatch order train_stack promises: its losses on all
    the points at the start of each epoch."""
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(net.parameters(), lr=lr)
    gen, losses = torch.Generator().manual_seed(seed), []
    for e in range(epochs + 1):
        with torch.no_grad():
            losses.append(0.5 * float(((net(X)[0].double() - Y.double()) ** 2).mean()))
        if e == epochs:
            return np.array(losses)
        for idx in torch.randperm(X.shape[0], generator=gen).split(batch):
            opt.zero_grad()
            (0.5 * ((net(X[idx])[0] - Y[idx]) ** 2).mean()).backward()
            opt.step()


def _minibatch(nets, X, Y, lr, epochs, seeds, optimizer="sgd", stop_loss=None):
    B = len(nets)
    losses = torch.full((int(np.max(epochs)) + 1, B), float("nan"), dtype=torch.float64)
    lives = []

    def record(e, idx, out, h, live):
        losses[e, idx] = 0.5 * ((out.double() - Y.double()) ** 2).mean((1, 2))
        lives.append((e, idx.tolist(), live.tolist()))
        return losses[e, idx]

    Xs, Ys = X.expand(B, *X.shape), Y.expand(B, *Y.shape)
    ends, div, _ = train_stack(nets[0], stacked(nets, "cpu"), (Xs,), Ys, lr, epochs, record, batch_size=4,
                               seeds=seeds, optimizer=optimizer, stop_loss=stop_loss)
    return [losses[:k, b].numpy() for b, k in enumerate(ends)], lives


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_minibatches_give_each_network_the_steps_it_takes_alone(optimizer):
    """In minibatches each network follows its own order of the points and takes the steps torch.optim takes
    for it alone (to float32 rounding); its records do not depend on which networks share its stack (bit for
    bit, any stack of two or more)."""
    g = torch.Generator().manual_seed(2)
    X, Y = torch.randn(10, 3, generator=g), torch.randn(10, 1, generator=g)
    lr = 0.05 if optimizer == "sgd" else 0.01
    nets = _nets(3)
    stack, _ = _minibatch(nets, X, Y, lr, 12, [7, 8, 9], optimizer)
    for net, sd, got in zip(_nets(3), [7, 8, 9], stack):
        np.testing.assert_allclose(got, _eager(net, X, Y, lr, 12, 4, sd, optimizer), rtol=2e-5)
    pair, _ = _minibatch(_nets(3)[1:], X, Y, lr, 12, [8, 9], optimizer)
    np.testing.assert_array_equal(pair[0], stack[1])
    np.testing.assert_array_equal(pair[1], stack[2])


def test_a_record_is_marked_live_up_to_the_network_s_end():
    """``live`` marks the records that are a network's own: up to its end, not those of an ended network kept in
    the stack beside the last one."""
    g = torch.Generator().manual_seed(2)
    X, Y = torch.randn(10, 3, generator=g), torch.randn(10, 1, generator=g)
    losses, lives = _minibatch(_nets(2), X, Y, 0.05, [3, 9], [0, 1])
    assert [loss.size for loss in losses] == [4, 10]
    live0 = [e for e, idx, live in lives if live[idx.index(0)]]
    assert live0 == [0, 1, 2, 3] and max(e for e, idx, _ in lives if 0 in idx) == 9   # kept beside network 1


@pytest.mark.parametrize("change,field", [(dict(batch_size=0), "batch_size"), (dict(seeds=[1]), "seeds"),
                                          (dict(seeds=None), "seeds")])
def test_bad_minibatch_values_are_refused_naming_the_field(change, field):
    nets = _nets(2)
    X, Y = torch.zeros(2, 6, 3), torch.zeros(2, 6, 1)
    kw = dict(batch_size=2, seeds=[0, 1]) | change
    with pytest.raises(ValueError, match=field):
        train_stack(nets[0], stacked(nets, "cpu"), (X,), Y, 0.1, 3, lambda *a: torch.zeros(2), **kw)
