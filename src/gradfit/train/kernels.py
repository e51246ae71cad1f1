"""The loop's steps in machine code (numba): the same equations as the readable path.

Imported only by ``gradfit.train.compiled``, and only when numba is installed: the
kernels are compiled on first use and cached on disk (``cache=True``), so later
processes load them in about half a second.

Each kernel is the readable loop's inner part written with scalar loops:

- a batch's loss and gradient: ``p = z . v + c``, ``e = p - y``,
  ``J = sum s e^2 / T``, ``dJ/dv = sum (2 s e / T) z``, ``dJ/dc = sum 2 s e / T``
  (``z = (x - mean) / scale``; sparse rows predict in original units and map the
  gradient back by the chain rule, as ``LinearRegressionLoss`` does);
- the update rules of ``optim/transforms.py`` (plain, momentum, Nesterov, Adam) with
  the schedules of ``optim/schedules.py``, in the same order of operations;
- SVRG's corrected gradient ``g_B(theta) - g_B(anchor) + g(anchor)``.

They decide nothing the readable loop does not: the history entries at its stride and
the stopping rules of ``Stopping`` (``full_batch_steps`` returns *before* the check that
ends a run, so that the loop's own check gives the reason in words).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# update rules, as the registry names them
GD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
# schedules (optim/schedules.py); RATES: one rate per step, given as an array
CONSTANT, INVERSE_SCALING, EXPONENTIAL, STEP_DECAY, RATES = 0, 1, 2, 3, 4

# Sums may be reassociated (vectorised) and multiply-adds fused: rounding-level changes,
# well inside the 1e-12 the readable path is held to; NaN and infinity keep their meaning
# (a blown-up loss must still compare as one).
_FAST = {"reassoc", "contract", "nsz"}

# what a run of steps ended with
DONE, BLOWUP = 0, 1


# Rows are visited in a shuffled order: each is a wait on memory unless it was asked for
# early. Rows this many visits ahead are prefetched (2.5x faster SGD on rows that do not
# fit in the caches).
AHEAD = 16


@intrinsic
def _prefetch(typingctx, values, index):
    """Ask the memory system for ``values[index]`` (LLVM's prefetch: read, keep in cache)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, array, [args[1]], wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), *flags])
        return context.get_dummy_value()

    return types.void(values, index), codegen


@njit(cache=True, nogil=True, inline="always")
def _prefetch_row(flat, i, d):
    """Prefetch row ``i`` of ``d`` values stored one row after another in ``flat``."""
    first = i * d
    for j in range(0, d, 8):  # one 64-byte line holds 8 values
        _prefetch(flat, first + j)
    _prefetch(flat, first + d - 1)


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _rate(kind, lr, a, b, t, rates, k):
    if kind == CONSTANT:
        return lr
    if kind == INVERSE_SCALING:
        return lr / (t + 1) ** a
    if kind == EXPONENTIAL:
        return lr * a ** (t / b)
    if kind == STEP_DECAY:
        return lr * a ** (t // int(b))
    return rates[k]


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _force(e, i, weight, epsilon):
    """A row's pull ``s_i dloss/de / 2`` and its loss, for error ``e``: the squared
    error's ``s_i e`` and ``s_i e^2``, or Huber's with ``e`` clipped to ``epsilon``
    (``model/losses.py``; None: squared)."""
    if epsilon is not None:
        c = min(max(e, -epsilon), epsilon)
        r = c * (2.0 * e - c)
        if weight is not None:  # (numba prunes it where weight is None)
            return weight[i] * c, weight[i] * r
        return c, r
    if weight is not None:  # noqa: SIM108
        we = weight[i] * e
    else:
        we = e
    return we, we * e


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _batch_grad(
    theta, X, data, indices, indptr, y, weight, order, start, stop, mean, inv_scale,
    intercept, total, wb, grad, epsilon, l1, l2,
):  # fmt: skip
    """Loss of rows ``order[start:stop]`` at ``theta``; their gradient into ``grad``.

    The rows are dense values row after row in ``X`` (row ``i`` at ``X[i d : (i + 1)
    d]``) or CSR arrays (``data``, ``indices``, ``indptr``): the other is None, as are
    ``weight`` (all 1) and ``mean`` (no standardization). A None is a type to numba:
    each combination compiles to its own code, without the branches. ``epsilon`` is
    Huber's threshold (None: squared error); ``l1``, ``l2`` the penalty's weights per
    coordinate (``model/penalty.py``; None: no such part), added as the readable path
    adds them: the whole penalty's value and its ridge gradient to the batch's.
    """
    # (numba prunes a branch on ``x is not None`` where x is None: each layout's code
    # sits under its own such test, so that the other layout's is never compiled)
    d = theta.shape[0] - 1
    factor = 2.0 / total
    loss = 0.0
    gb = 0.0
    if data is not None:  # CSR rows predict in original units: w = v / scale, b = c - w . mean
        for j in range(d):
            grad[j] = 0.0
        b = theta[d]
        for j in range(d):
            if mean is not None:
                wb[j] = theta[j] * inv_scale[j]
                b -= wb[j] * mean[j]
            else:
                wb[j] = theta[j]
        for k in range(start, stop):
            i = order[k]
            p = b
            for jj in range(indptr[i], indptr[i + 1]):
                p += data[jj] * wb[indices[jj]]
            we, term = _force(p - y[i], i, weight, epsilon)
            loss += term
            g = we * factor
            gb += g
            for jj in range(indptr[i], indptr[i + 1]):
                grad[indices[jj]] += data[jj] * g
        if mean is not None:  # chain rule: dp/dv_j = (x_j - mean_j) / scale_j
            for j in range(d):
                grad[j] = (grad[j] - mean[j] * gb) * inv_scale[j]
    if X is not None:
        n = order.shape[0]
        for k in range(start, stop):
            i = order[k]
            if k + AHEAD < n:
                _prefetch_row(X, order[k + AHEAD], d)
            row = i * d
            p = theta[d]
            if mean is not None:  # the row in descent coordinates, once (two uses below)
                for j in range(d):
                    z = (X[row + j] - mean[j]) * inv_scale[j]
                    wb[j] = z
                    p += z * theta[j]
            else:
                for j in range(d):
                    p += X[row + j] * theta[j]
            we, term = _force(p - y[i], i, weight, epsilon)
            loss += term
            g = we * factor
            gb += g
            if mean is not None:
                if k == start:  # the first row sets the gradient: no zeroing pass
                    for j in range(d):
                        grad[j] = wb[j] * g
                else:
                    for j in range(d):
                        grad[j] += wb[j] * g
            elif k == start:
                for j in range(d):
                    grad[j] = X[row + j] * g
            else:
                for j in range(d):
                    grad[j] += X[row + j] * g
    grad[d] = gb if intercept else 0.0
    loss = loss / total
    if l1 is not None or l2 is not None:
        penalty = 0.0
        if l1 is not None:
            for j in range(d + 1):
                penalty += l1[j] * abs(theta[j])
        if l2 is not None:
            for j in range(d + 1):
                penalty += l2[j] * (theta[j] * theta[j])
            for j in range(d + 1):
                grad[j] += (2.0 * l2[j]) * theta[j]
        loss += penalty
    return loss


@njit(cache=True, nogil=True)
def power(b, t):
    """``b^t`` as ``t`` products, as Adam's steps carry it: the same number however a
    run is cut into calls (pausing and resuming changes no bit); it reaches 0 within
    a million products for b <= 0.999."""
    p = 1.0
    for _ in range(t):
        p *= b
        if p == 0.0:
            break
    return p


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _apply_rule(
    rule, theta, grad, lr, beta, b2, eps, velocity, mu, nu, adam_t, powers, exact_powers
):
    """One update of ``theta`` by ``rule`` (optim/transforms.py, written per coordinate).

    ``powers`` is ``(b1^t, b2^t)`` for Adam's step count ``t``, carried from step to
    step by one product each (``power``: a power per step would cost as much as the
    rest of a step), or as powers (``exact_powers``: full batch, where a step costs more
    than a power). Returns Adam's new count and powers.
    """
    n = theta.shape[0]
    factor = -lr
    if rule == GD:
        for j in range(n):
            theta[j] = theta[j] + grad[j] * factor
    elif rule in (MOMENTUM, NESTEROV):
        for j in range(n):
            v = grad[j] + beta * velocity[j]
            velocity[j] = v
            u = grad[j] + beta * v if rule == NESTEROV else v
            theta[j] = theta[j] + u * factor
    else:  # Adam
        adam_t += 1
        if exact_powers:  # as the readable path (where a step costs more than a power)
            powers = (beta ** float(adam_t), b2 ** float(adam_t))  # pow(), as Python
        else:
            powers = (powers[0] * beta, powers[1] * b2)
        c1, c2 = 1 - powers[0], 1 - powers[1]
        # the bias corrections' divisions as products (rounding-level changes), but
        # where the readable path's own operations are cheap enough
        r1, r2 = 1.0 / c1, 1.0 / c2
        for j in range(n):
            m = beta * mu[j] + (1 - beta) * grad[j]
            v = b2 * nu[j] + (1 - b2) * grad[j] * grad[j]
            mu[j] = m
            nu[j] = v
            if exact_powers:
                u = (m / c1) / (math.sqrt(v / c2) + eps)
            else:
                u = (m * r1) / (math.sqrt(v * r2) + eps)
            theta[j] = theta[j] + u * factor
    return adam_t, powers


@njit(cache=True, nogil=True, fastmath=_FAST)
def batch_steps(
    X,
    data,
    indices,
    indptr,
    y,
    weight,
    order,
    position,
    count,
    batch_size,
    mean,
    inv_scale,
    intercept,
    mean_weight,
    theta,
    rule,
    hyper,
    velocity,
    mu,
    nu,
    adam_t,
    powers,
    schedule,
    sched_t,
    rates,
    anchor,
    anchor_grad,
    blowup,
    step,
    stride,
    steps,
    thetas,
    losses,
    gnorms,
    epsilon,
    l1,
    l2,
):
    """``count`` steps on the batches ``position, position + 1, ...`` of ``order``.

    The rows as ``_batch_grad`` takes them. ``hyper`` is ``(beta, b2, eps)``,
    ``schedule`` ``(kind, lr, a, b)``; ``anchor`` (None: no control variate) and its
    full gradient ``anchor_grad`` give SVRG's correction. ``epsilon``, ``l1``, ``l2``:
    Huber's loss and the penalty (``_batch_grad``); with ``l1`` each step ends with the
    soft threshold (``optim/transforms.proximal_step``: ISTA, proximal SVRG). Updates
    ``theta`` and the rule's state in place. The first step is step ``step`` of the
    run: a step whose number is a multiple of ``stride`` is recorded (its number, the
    parameters before it, its batch's loss and gradient norm) in ``steps``, ``thetas``, ``losses``,
    ``gnorms``. Returns ``(steps done, status, loss that ended it, entries recorded,
    schedule's t, Adam's t)``; ``status`` is ``BLOWUP`` when a batch's loss reached
    ``blowup`` (that step is not taken).
    """
    n = order.shape[0]
    d1 = theta.shape[0]
    beta, b2, eps = hyper
    kind, lr, a, b = schedule
    grad = np.empty(d1)
    other = np.empty(d1)
    wb = np.empty(d1)
    before = np.empty(d1)
    entries = 0
    for s in range(count):
        start = (position + s) * batch_size
        stop = min(start + batch_size, n)
        total = (stop - start) * mean_weight
        loss = _batch_grad(
            theta, X, data, indices, indptr, y, weight, order, start, stop,
            mean, inv_scale, intercept, total, wb, grad, epsilon, l1, l2,
        )  # fmt: skip
        if not loss < blowup:
            return s, BLOWUP, loss, entries, sched_t, adam_t, powers
        if anchor is not None:
            _batch_grad(
                anchor, X, data, indices, indptr, y, weight, order, start, stop,
                mean, inv_scale, intercept, total, wb, other, epsilon, l1, l2,
            )  # fmt: skip
            for j in range(d1):
                grad[j] = grad[j] - other[j]
            for j in range(d1):
                grad[j] += anchor_grad[j]
        if (step + s) % stride == 0:
            steps[entries] = step + s
            gsum = 0.0
            for j in range(d1):
                thetas[entries, j] = theta[j]
                gsum += grad[j] * grad[j]
            losses[entries] = loss
            gnorms[entries] = math.sqrt(gsum)
            entries += 1
        rate = _rate(kind, lr, a, b, sched_t, rates, s)
        sched_t += 1
        if l1 is not None:
            for j in range(d1):
                before[j] = theta[j]
        adam_t, powers = _apply_rule(
            rule, theta, grad, rate, beta, b2, eps, velocity, mu, nu, adam_t, powers, False
        )
        if l1 is not None:  # the proximal step as an update: theta + (prox(moved) - theta)
            for j in range(d1):
                moved = theta[j]
                shrunk = max(abs(moved) - rate * l1[j], 0.0)
                if moved < 0:
                    shrunk = -shrunk
                elif moved != moved:  # NaN stays NaN, as np.sign's
                    shrunk = moved
                theta[j] = before[j] + (shrunk - before[j])
    return count, DONE, math.nan, entries, sched_t, adam_t, powers


# what a run of full-batch steps ended with (besides BLOWUP)
CHECK, PAUSE, MORE = 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def _quadratic(K, u, theta, grad):
    """``J`` and its gradient into ``grad`` from ``K = [[H, -h], [-h^T, 2 f0]]``, as
    ``Quadratic.value_and_grad`` (``u = [theta, 1]``), with its products (numba's
    ``np.dot`` is the same BLAS call: near the optimum the gradient is mostly
    cancellation, and the stopping rules must see the same rounding)."""
    d1 = theta.shape[0]
    for j in range(d1):
        u[j] = theta[j]
    Ku = np.dot(K, u)
    loss = 0.5 * np.dot(u, Ku)
    for j in range(d1):
        grad[j] = Ku[j]
    return loss if loss > 0.0 else 0.0


@njit(cache=True, nogil=True)
def full_batch_steps(
    K,
    theta,
    grad,
    loss,
    rule,
    hyper,
    velocity,
    mu,
    nu,
    adam_t,
    powers,
    schedule,
    sched_t,
    rates,
    step,
    epoch,
    last_step,
    limits,
    until_loss,
    memory,
    stride,
    steps,
    thetas,
    losses,
    gnorms,
    epoch_losses,
):
    """Full-batch steps on the statistics, with the stopping rules checked every epoch.

    ``limits`` is ``(blowup, patience, gtol, floor, loss_tol, loss_resolution,
    n_iter_no_change, max_iter)`` and ``memory`` ``(start_loss, previous, growing,
    best, stalled)``: the numbers of ``Stopping`` (no held-out rows, no settling);
    ``until_loss`` the level of a ``LossBelow`` callback (-inf: none).
    Stops *before* the check that would end the run (status ``CHECK``: the caller
    runs ``Stopping.check`` itself, for its words), after ``last_step`` (``PAUSE``),
    or when the record arrays are full (``MORE``). History entries every ``stride``
    steps go into ``steps``, ``thetas``, ``losses``, ``gnorms``; the loss after each
    epoch into ``epoch_losses``.

    Returns ``(status, step, epoch, loss, entries, epoch losses, memory, adam_t,
    sched_t)``; ``theta``, ``grad`` and the rule's state are updated in place.
    """
    blowup, patience, gtol, floor, loss_tol, loss_resolution, n_iter_no_change, max_iter = limits
    start_loss, previous, growing, best, stalled = memory
    beta, b2, eps = hyper
    kind, lr, a, b = schedule
    d1 = theta.shape[0]
    u = np.ones(d1 + 1)
    sched_start = sched_t
    entries = 0
    seen = 0
    capacity = losses.shape[0]
    while True:
        gsum = 0.0
        for j in range(d1):
            gsum += grad[j] * grad[j]
        gnorm = math.sqrt(gsum)
        # Stopping.check: would it stop here? (its own memory updates, in its order)
        new_growing = growing
        if epoch > 0:
            new_growing = growing + 1 if loss > previous and loss > start_loss else 0
        stop = epoch > 0 and (not (loss < blowup and gnorm < math.inf) or new_growing >= patience)
        stop = stop or gnorm <= gtol or gnorm <= floor
        new_best, new_stalled = best, stalled
        if not stop and loss_tol > 0 and epoch > 0 and loss > loss_resolution:
            if loss < best * (1.0 - loss_tol):
                new_best, new_stalled = loss, 0
            else:
                new_stalled = stalled + 1
                stop = new_stalled >= n_iter_no_change
        stop = stop or epoch >= max_iter or loss <= until_loss  # (the last: the callback's)
        if stop or entries == capacity or seen == epoch_losses.shape[0]:
            memory = (start_loss, previous, growing, best, stalled)
            return (
                CHECK if stop else MORE,
                step,
                epoch,
                loss,
                entries,
                seen,
                memory,
                adam_t,
                powers,
                sched_t,
            )
        previous, growing, best, stalled = loss, new_growing, new_best, new_stalled
        if step % stride == 0:
            steps[entries] = step
            for j in range(d1):
                thetas[entries, j] = theta[j]
            losses[entries] = loss
            gnorms[entries] = gnorm
            entries += 1
        rate = _rate(kind, lr, a, b, sched_t, rates, sched_t - sched_start)
        sched_t += 1
        adam_t, powers = _apply_rule(
            rule, theta, grad, rate, beta, b2, eps, velocity, mu, nu, adam_t, powers, True
        )
        step += 1
        if step >= last_step:
            memory = (start_loss, previous, growing, best, stalled)
            return PAUSE, step, epoch, loss, entries, seen, memory, adam_t, powers, sched_t
        epoch += 1
        loss = _quadratic(K, u, theta, grad)
        epoch_losses[seen] = loss
        seen += 1
