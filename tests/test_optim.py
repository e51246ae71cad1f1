import numpy as np
import pytest

from gradfit.exceptions import InvalidInputError
from gradfit.optim import (
    adam,
    apply_updates,
    as_schedule,
    constant,
    exponential_decay,
    gd,
    inverse_scaling,
    momentum,
    nesterov,
    step_decay,
)


def run(opt, grads, theta):
    state = opt.init(theta)
    out = []
    for g in grads:
        updates, state = opt.update(g, state, theta)
        theta = apply_updates(theta, updates)
        out.append(theta)
    return np.array(out)


@pytest.fixture
def grads(rng):
    return rng.normal(size=(6, 3))


def test_gd_is_theta_minus_lr_grad(grads):
    got = run(gd(0.1), grads, np.ones(3))
    np.testing.assert_allclose(got, 1 - 0.1 * np.cumsum(grads, axis=0))


def test_momentum_and_nesterov_by_hand(grads):
    for opt, nest in ((momentum(0.1, 0.9), False), (nesterov(0.1, 0.9), True)):
        theta, v, expected = np.zeros(3), np.zeros(3), []
        for g in grads:
            v = g + 0.9 * v
            theta = theta - 0.1 * ((g + 0.9 * v) if nest else v)
            expected.append(theta)
        np.testing.assert_allclose(run(opt, grads, np.zeros(3)), expected, rtol=1e-14)


def test_adam_matches_the_paper(grads):
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    theta, m, v, expected = np.zeros(3), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        expected.append(theta)
    np.testing.assert_allclose(run(adam(lr), grads, np.zeros(3)), expected, rtol=1e-13)


def test_adam_matches_torch_style_reference_on_first_step(grads):
    # Adam's first bias-corrected step has size lr in every coordinate (sign of g).
    got = run(adam(0.01), grads[:1], np.zeros(3))[0]
    np.testing.assert_allclose(got, -0.01 * np.sign(grads[0]), rtol=1e-6)


def test_schedules():
    assert [constant(0.5)(t) for t in (0, 9)] == [0.5, 0.5]
    assert inverse_scaling(1.0, power=1.0)(3) == 0.25
    assert exponential_decay(1.0, rate=0.1, every=10)(10) == pytest.approx(0.1)
    assert step_decay(1.0, factor=0.1, every=5)(12) == pytest.approx(0.01)
    sched = as_schedule(0.3)
    assert sched(100) == 0.3 and repr(sched) == "constant(lr=0.3)"


def test_schedule_drives_gd(grads):
    got = run(gd(step_decay(1.0, factor=0.5, every=1)), grads[:3], np.zeros(3))
    np.testing.assert_allclose(got[-1], -(grads[0] + 0.5 * grads[1] + 0.25 * grads[2]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: constant(0.0),
        lambda: constant(float("nan")),
        lambda: gd(-1.0),
        lambda: exponential_decay(0.1, rate=2.0),
        lambda: adam(0.1, b2=1.5),
    ],
)
def test_bad_optimizer_parameters(make):
    with pytest.raises(InvalidInputError):
        make()
