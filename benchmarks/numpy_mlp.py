"""The yardstick for `drill gen mlp-backward`: the same passes in plain NumPy, no drill.

    python benchmarks/numpy_mlp.py [-n 1000] [--difficulty hand|calc]

For each seed it draws a network of the shape mlp-backward uses (hand: 2-2-1 on the
0.5 grid; calc: 3-3-2, two-decimal floats), runs the forward pass (z1 = W1 x + b1,
h1 = relu(z1), z2 = W2 h1 + b2, a squared error) and the backward pass to every weight
and bias, by hand, and prints one JSON array with the loss and one gradient entry per
network, as `drill gen -n N --format json` prints one record per exercise. Run as a
whole process beside `drill gen mlp-backward -n 1000 --format json`: what drill adds to
this is its own work (choosing and checking the network, the question, the worked
solution), start-up included on both sides.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def draw(rng: np.random.Generator, hand: bool, shape: tuple[int, ...], low: float, high: float):
    if hand:
        return rng.choice(np.arange(low * 2, high * 2 + 1), size=shape) * 0.5
    return np.round(rng.uniform(low, high, size=shape), 2)


def one(seed: int, hand: bool) -> dict:
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = (2, 2, 1) if hand else (3, 3, 2)
    x = draw(rng, hand, (n_in,), -2.0, 2.0)
    W1 = draw(rng, hand, (n_hidden, n_in), -1.5, 1.5)
    b1 = draw(rng, hand, (n_hidden,), -1.0, 1.0)
    W2 = draw(rng, hand, (n_out, n_hidden), -1.5, 1.5)
    b2 = draw(rng, hand, (n_out,), -1.0, 1.0)
    y = draw(rng, hand, (n_out,), -2.0, 2.0)
    # forward
    z1 = W1 @ x + b1
    h1 = np.maximum(z1, 0.0)
    z2 = W2 @ h1 + b2
    loss = float(np.mean((z2 - y) ** 2))
    # backward
    dz2 = 2.0 * (z2 - y) / n_out
    dW2 = np.outer(dz2, h1)
    dh1 = W2.T @ dz2
    dz1 = dh1 * (z1 > 0)
    dW1 = np.outer(dz1, x)
    db1 = dz1
    i, j = int(rng.integers(n_hidden)), int(rng.integers(n_in))
    return {
        "seed": seed,
        "inputs": {"x": x.tolist(), "W1": W1.tolist(), "W2": W2.tolist(), "y": y.tolist()},
        "loss": loss,
        "answer": float(dW1[i, j]),
        "others": [dW2.tolist(), db1.tolist(), dz2.tolist()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="networks (default 1000)")
    parser.add_argument("--difficulty", choices=("hand", "calc"), default="hand")
    args = parser.parse_args()
    hand = args.difficulty == "hand"
    print(json.dumps([one(seed, hand) for seed in range(args.n)], indent=2))


if __name__ == "__main__":
    main()
