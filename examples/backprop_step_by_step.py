"""Backpropagation, one stage at a time (study-guide topic 2).

A two-layer network on four 2-D points: prints the forward pass, the loss, every
gradient from autograd next to the same gradient derived by hand with the chain rule,
and the SGD update, then trains a few steps and shows the loss falling.

Run: python examples/backprop_step_by_step.py [--steps 20]
"""
import argparse

import numpy as np

import minicv as mc


def main(steps=20, lr=0.5, log=print):
    mc.manual_seed(0)
    x = mc.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=mc.float64)
    y = mc.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=mc.float64)          # XOR
    w1 = mc.randn(2, 4, dtype=mc.float64, requires_grad=True)
    w2 = mc.randn(4, 1, dtype=mc.float64, requires_grad=True)

    log("1. forward:  h = tanh(x @ w1),  p = sigmoid(h @ w2)")
    h = (x @ w1).tanh()
    p = (h @ w2).sigmoid()
    log(f"   p = {np.round(p.data.ravel(), 4)}")
    log("2. loss:     L = mean((p - y)^2)")
    loss = ((p - y) ** 2).mean()
    log(f"   L = {loss.item():.6f}")
    log("3. backward: autograd walks the graph in reverse")
    loss.backward()
    # the chain rule by hand, stage by stage
    dp = 2 * (p.data - y.data) / 4                  # dL/dp        (4, 1)
    dz2 = dp * p.data * (1 - p.data)                # through sigmoid
    dw2 = h.data.T @ dz2                            # dL/dw2       (4, 1)
    dh = dz2 @ w2.data.T                            # dL/dh        (4, 4)
    dz1 = dh * (1 - h.data ** 2)                    # through tanh
    dw1 = x.data.T @ dz1                            # dL/dw1       (2, 4)
    err = max(np.abs(w1.grad.data - dw1).max(), np.abs(w2.grad.data - dw2).max())
    log(f"   |autograd - hand-derived| = {err:.2e}")
    log("4. update:   w <- w - lr * dL/dw")
    losses = [loss.item()]
    for _ in range(steps):
        with mc.no_grad():
            w1.sub_(lr * w1.grad)
            w2.sub_(lr * w2.grad)
        w1.grad = w2.grad = None
        loss = (((x @ w1).tanh() @ w2).sigmoid() - y).pow(2).mean()
        loss.backward()
        losses.append(loss.item())
    log(f"   loss after {steps} steps: {losses[0]:.4f} -> {losses[-1]:.4f}")
    return {"max_abs_error": float(err), "loss_first": losses[0], "loss_last": losses[-1]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    main(ap.parse_args().steps)
