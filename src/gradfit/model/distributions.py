"""Student's t and F distributions (survival functions, t quantiles), NumPy only.

Both come from the regularized incomplete beta function ``I_x(a, b)``, evaluated by a
continued fraction (Lentz's, and DiDonato and Morris' (ACM TOMS 708) where the classic
one loses digits); tests check them against SciPy and mpmath to about 1e-10.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit.exceptions import InvalidInputError

__all__ = ["f_sf", "regularized_beta", "student_t_ppf", "student_t_sf", "t_tails"]

EPS = float(np.finfo(np.float64).eps)


def _stirling_tail(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)`` for ``z >= 10`` (to ~1e-17)."""
    z2 = 1.0 / (z * z)
    inner = 1.0 / 1260 - z2 * (1.0 / 1680 - z2 * (1.0 / 1188 - z2 * (691.0 / 360360)))
    return (1.0 / 12 - z2 * (1.0 / 360 - z2 * inner)) / z


def _lgamma_ratio(z: float, a: float) -> float:
    """``lgamma(z + a) - lgamma(z)`` without the cancellation of two large numbers."""
    if z < 10.0:
        return math.lgamma(z + a) - math.lgamma(z)
    return (
        (z - 0.5) * math.log1p(a / z)
        + a * math.log(z + a)
        - a
        + _stirling_tail(z + a)
        - _stirling_tail(z)
    )


def _log_prefactor(
    a: float, b: float, x: np.ndarray, y: np.ndarray, log_x: np.ndarray, log_y: np.ndarray
) -> np.ndarray:
    """``log(x^a y^b / B(a, b))``, accurate also when ``a`` and ``b`` are large."""
    if min(a, b) >= 10.0:
        # x^a y^b / B(a, b) = (x s / a)^a (y s / b)^b sqrt(a b / (2 pi s)) e^(-corrections),
        # s = a + b, and x s - a = x b - y a (x + y = 1): no large terms cancel
        s = a + b
        lam = x * b - y * a
        corr = _stirling_tail(a) + _stirling_tail(b) - _stirling_tail(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            # log(x s / a) = log1p(lam / a), exact near 0; far from 0 the logarithms are
            # as accurate (and log1p near -1 is not)
            near = np.abs(lam / a) <= 0.5
            out = a * np.where(near, np.log1p(lam / a), log_x + math.log(s / a))
            near = np.abs(lam / b) <= 0.5
            out += b * np.where(near, np.log1p(-lam / b), log_y + math.log(s / b))
        out = np.where(np.isnan(out), -np.inf, out)
        return np.asarray(out + 0.5 * math.log(a * b / (2.0 * math.pi * s)) - corr)
    small, large = (a, b) if a <= b else (b, a)
    log_beta = math.lgamma(small) - _lgamma_ratio(large, small)
    with np.errstate(invalid="ignore"):
        out = a * log_x + b * log_y
    return np.asarray(np.where(np.isnan(out), -np.inf, out) - log_beta)


def _lentz_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The classic continued fraction of ``I_x(a, b) = x^a y^b / B(a, b) * fraction / a``
    (modified Lentz), for ``x`` below the mean and ``a < b``: there it converges fast
    and nothing cancels (``(a + b) x / (a + 1) < a / (a + 1)``). ``y`` is not needed; it
    is taken so that both fractions are called alike."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    m = 0
    while active.any() and m < 100_000:
        m += 1
        m2 = 2.0 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            delta = d * c
            h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > 2.0 * EPS
    return np.asarray(h / a)


def _didonato_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The continued fraction of DiDonato and Morris (1992, ACM TOMS 708, ``BFRAC``):
    ``I_x(a, b) = x^a y^b / B(a, b) * fraction``, for ``x`` at or below the mean and
    ``a >= b``. It is written with ``y = 1 - x`` and ``(a + b) y - b``, so that nothing
    cancels when ``a`` is large and ``x`` near 1 (where the classic fraction loses about
    ``log10(a)`` digits)."""
    lam = (a + b) * y - b
    c, c0, c1, yp1 = 1.0 + lam, b / a, 1.0 + 1.0 / a, y + 1.0
    p, s = np.ones_like(x), a + 1.0
    an, bn = np.zeros_like(x), np.ones_like(x)
    anp1, bnp1 = np.ones_like(x), c / c1
    r = c1 / c
    active = np.ones(x.shape, dtype=bool)
    n = 0
    while active.any() and n < 100_000:
        n += 1
        t = n / a
        w = n * (b - n) * x
        e = a / s
        alpha = p * (p + c0) * e * e * (w * x)
        e = (1.0 + t) / (c1 + t + t)
        beta = n + w / s + e * (c + n * yp1)
        p, s = 1.0 + t, s + 2.0
        an, anp1 = anp1, alpha * an + beta * anp1
        bn, bnp1 = bnp1, alpha * bn + beta * bnp1
        r0, r_new = r, anp1 / bnp1
        r = np.where(active, r_new, r)
        active &= np.abs(r - r0) > 2.0 * EPS * r
        # rescale: the recurrence grows without bound otherwise
        an, bn, anp1, bnp1 = an / bnp1, bn / bnp1, r, np.ones_like(x)
    return np.asarray(r)


def _beta_pair(
    a: float,
    b: float,
    x: np.ndarray,
    y: np.ndarray,
    log_x: np.ndarray | None = None,
    log_y: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``I_x(a, b)`` and ``1 - I_x(a, b)``, each accurate (``y = 1 - x`` given exactly).

    The smaller tail is computed by a continued fraction (the one that is accurate for
    its parameters); the other is 1 minus it.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log(1 - v) as log1p(-v) for the smaller v
        lx = np.where(x <= y, np.log(x), np.log1p(-y)) if log_x is None else log_x
        ly = np.where(y <= x, np.log(y), np.log1p(-x)) if log_y is None else log_y
    lx, ly = np.asarray(lx, dtype=np.float64), np.asarray(ly, dtype=np.float64)
    log_front = np.atleast_1d(_log_prefactor(a, b, x, y, lx, ly))
    lower_tail = np.atleast_1d((a + b) * y - b >= 0.0)  # x at or below the mean a / (a + b)
    shape = np.broadcast(x, y).shape
    xs, ys = np.broadcast_to(x, shape).ravel(), np.broadcast_to(y, shape).ravel()
    log_front = np.broadcast_to(log_front, xs.shape)
    lower_tail = np.broadcast_to(lower_tail, xs.shape)
    fa, fb = np.where(lower_tail, a, b), np.where(lower_tail, b, a)
    fx, fy = np.where(lower_tail, xs, ys), np.where(lower_tail, ys, xs)
    fraction = np.ones(xs.shape)
    todo = np.isfinite(log_front)  # else the tail is 0 (or x or y is)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for method, which in (
            (_lentz_fraction, todo & (fa < fb)),
            (_didonato_fraction, todo & (fa >= fb)),
        ):
            if which.any():
                fraction[which] = method(fa[which], fb[which], fx[which], fy[which])
        # in logarithms: a prefactor below the smallest normal float would lose digits
        part = np.where(todo, np.exp(log_front + np.log(fraction)), 0.0)
    lower = np.where(lower_tail, part, 1.0 - part)
    upper = np.where(lower_tail, 1.0 - part, part)
    # the ends, where the logarithms say x or y is 0 (x may underflow, its log not)
    x_zero = np.broadcast_to(lx, shape).ravel() == -np.inf
    y_zero = np.broadcast_to(ly, shape).ravel() == -np.inf
    lower = np.where(y_zero, 1.0, np.where(x_zero, 0.0, lower))
    upper = np.where(y_zero, 0.0, np.where(x_zero, 1.0, upper))
    return lower.reshape(shape), upper.reshape(shape)


def regularized_beta(a: float, b: float, x: Any) -> np.ndarray:
    """The regularized incomplete beta function ``I_x(a, b)`` (``scipy.special.betainc``).

    >>> round(float(regularized_beta(2.0, 3.0, 0.4)), 12)  # 1 - 0.6^4 - 4 (0.4) 0.6^3
    0.5248
    """
    if not (a > 0 and b > 0):
        raise InvalidInputError(f"a and b must be > 0, got {a} and {b}")
    xa = np.asarray(x, dtype=np.float64)
    if np.any((xa < 0) | (xa > 1)):
        raise InvalidInputError("x must be in [0, 1]")
    return _beta_pair(a, b, xa, 1.0 - xa)[0]


def t_tails(t: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """``P(|T| > |t|)`` and ``P(|T| <= |t|)`` for Student's t with ``df`` degrees of freedom."""
    # x = df / (df + t^2) = 1 / (1 + u^2), u = |t| / sqrt(df); beyond u = 1e100 (where
    # u^2 would overflow) x = u^-2 to all digits
    u = np.abs(np.asarray(t, dtype=np.float64)) / math.sqrt(df)
    far = u > 1e100
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        ratio = np.where(far, 1.0, u) ** 2
        log_u = np.log(np.where(far, u, 1.0))
        x = np.where(far, np.exp(-2.0 * log_u), 1.0 / (1.0 + ratio))
        y = np.where(far, 1.0, ratio / (1.0 + ratio))
        log_x = np.where(far, -2.0 * log_u, -np.log1p(ratio))
        log_y = np.where(far, 0.0, np.log(ratio) - np.log1p(ratio))
    return _beta_pair(df / 2.0, 0.5, x, y, log_x, log_y)


def student_t_sf(t: Any, df: float) -> np.ndarray:
    """``P(T > t)`` for Student's t with ``df`` degrees of freedom (``scipy.stats.t.sf``).

    >>> round(float(student_t_sf(2.0, 5.0)), 10)
    0.0509697394
    """
    if not df > 0:
        raise InvalidInputError(f"df must be > 0, got {df}")
    t = np.asarray(t, dtype=np.float64)
    two_sided, inside = t_tails(t, df)
    return np.asarray(np.where(t >= 0, 0.5 * two_sided, 0.5 + 0.5 * inside))


def _t_pdf(t: float, df: float) -> float:
    log_norm = _lgamma_ratio(df / 2.0, 0.5) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def student_t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (``scipy.stats.t.ppf``), to ~1e-15 relative.

    >>> round(student_t_ppf(0.975, 10.0), 9)
    2.228138852
    """
    if not 0.0 < q < 1.0:
        raise InvalidInputError(f"q must be in (0, 1), got {q}")
    if not df > 0:
        raise InvalidInputError(f"df must be > 0, got {df}")
    if q == 0.5:
        return 0.0
    # Solve for |t| with P(|T| > |t|) = 2 min(q, 1 - q) when that is the smaller
    # probability, else P(|T| <= |t|) = |2 q - 1| (each exact in floating point), by
    # Newton steps on the logarithm, kept inside a bracket by bisection.
    side = 1.0 if q > 0.5 else -1.0
    smaller = 1.0 - q if q > 0.5 else q
    tail = 2.0 * smaller <= 0.5
    target = math.log(2.0 * smaller if tail else abs(2.0 * q - 1.0))
    sign = -1.0 if tail else 1.0  # the tail falls with t, the inside grows

    def residual(t: float) -> tuple[float, float]:
        """log(probability) - target, and its derivative in t."""
        outside, inside = t_tails(np.array(t), df)
        prob = float(outside if tail else inside)
        if prob <= 0.0:  # log(0): below any target (a bisection step follows)
            return -math.inf, math.nan
        return math.log(prob) - target, sign * 2.0 * _t_pdf(t, df) / prob

    lo, hi = 0.0, 1.0
    while sign * residual(hi)[0] < 0.0:
        if hi > 1e300:
            return side * math.inf  # beyond the largest float
        lo, hi = hi, 2.0 * hi
    t = 0.5 * (lo + hi)
    for _ in range(200):
        value, slope = residual(t)
        if value == 0.0:
            return side * t
        if sign * value < 0.0:
            lo = t
        else:
            hi = t
        new = t - value / slope if slope != 0.0 and math.isfinite(slope) else math.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - t) <= 2.0 * EPS * abs(new) or hi - lo <= 2.0 * EPS * hi:
            return side * new
        t = new
    return side * t


def f_sf(f: Any, dfn: float, dfd: float) -> np.ndarray:
    """``P(F > f)`` for the F distribution with ``(dfn, dfd)`` degrees of freedom
    (``scipy.stats.f.sf``).

    >>> round(float(f_sf(3.0, 2.0, 10.0)), 10)  # (1 + 2 * 3 / 10)^-5
    0.0953674316
    """
    if not (dfn > 0 and dfd > 0):
        raise InvalidInputError(f"dfn and dfd must be > 0, got {dfn} and {dfd}")
    f = np.maximum(np.asarray(f, dtype=np.float64), 0.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        u = dfn * f / dfd  # x = u / (1 + u), y = 1 / (1 + u)
        inf = np.isinf(u)
        x = np.where(inf, 1.0, u / (1.0 + u))
        y = np.where(inf, 0.0, 1.0 / (1.0 + u))
        log_x = np.where(inf, 0.0, np.log(u) - np.log1p(u))
        log_y = -np.log1p(u)
    return _beta_pair(dfn / 2.0, dfd / 2.0, x, y, log_x, log_y)[1]
