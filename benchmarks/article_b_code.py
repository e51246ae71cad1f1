"""Article B's gradient descent as published: Python loops over the (x, y) pairs.

Kept verbatim in spirit (loss and gradient as sums over the points, NumPy dot
products for one point at a time) so that ``make bench`` can time gradfit against it
on the same data. Printing every iteration is switched off for timing.
"""

from __future__ import annotations

import numpy as np


def train_loss(w, b, points):
    return sum((w.dot(x) + b - y) ** 2 for x, y in points) / len(points)


def gradient_w(w, b, points):
    return sum(2 * (w.dot(x) + b - y) * x for x, y in points) / len(points)


def gradient_b(w, b, points):
    return sum(2 * (w.dot(x) + b - y) for x, y in points) / len(points)


def gradient_descent(points, d, lr=0.01, iterations=1000, verbose=False):
    w = np.zeros(d)
    b = 0.0
    for i in range(iterations):
        loss = train_loss(w, b, points)
        gw = gradient_w(w, b, points)
        gb = gradient_b(w, b, points)
        w = w - lr * gw
        b = b - lr * gb
        if verbose:
            print(f"iteration {i}: w = {w}, b = {b}, loss = {loss}")
    return w, b
