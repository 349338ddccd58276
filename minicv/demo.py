"""A first contact with the engine: fit a two-layer network to two interleaved spirals
with nothing but tensors, autograd and a hand-written SGD step, printing the loss."""
import numpy as np

import minicv as mc


def spirals(n=200, noise=0.1, seed=0):
    """Two spirals of ``n`` points each, labels 0 and 1: not linearly separable."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise / 3, (2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)])
    return x.astype(np.float32), y.astype(np.int64)


def fit_spirals(epochs=200, hidden=64, lr=0.5, seed=0, log=print):
    """Full-batch gradient descent on softmax cross-entropy; returns (losses, accuracy)."""
    mc.manual_seed(seed)
    x, y = spirals(seed=seed)
    x, onehot = mc.tensor(x), mc.tensor(np.eye(2, dtype=np.float32)[y])
    w1 = (mc.randn(2, hidden) * 1.0).requires_grad_()
    b1 = mc.zeros(hidden, requires_grad=True)
    w2 = (mc.randn(hidden, 2) * (1 / hidden ** 0.5)).requires_grad_()
    b2 = mc.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    losses = []
    for epoch in range(epochs):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        loss = -(logits.log_softmax(dim=1) * onehot).sum(dim=1).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with mc.no_grad():
            for p in params:
                p.sub_(p.grad * lr)
        losses.append(loss.item())
        if epoch % max(epochs // 10, 1) == 0 or epoch == epochs - 1:
            acc = float((logits.data.argmax(1) == y).mean())
            log(f"epoch {epoch:4d}  loss {loss.item():.4f}  accuracy {acc:.3f}")
    return losses, acc
