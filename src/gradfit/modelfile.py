"""Model files: a fitted line saved as checked JSON, and loaded back exactly.

``save(result, path)`` writes the model (coefficients, names, scaling), how the fit went
(steps, stop reason, final gradient norm, certified gap...), the options that differ
from their defaults, the gradfit version, a fingerprint of the training data when the
rows are given, the time it was written, the format and a SHA-256 checksum of all of
it. The file is plain JSON (never pickle: loading a file runs no code), written
atomically: a reader sees the old file or the new one, never half of one. Floats are
written as Python's ``repr``, so they load back bit for bit.

``load(path)`` checks everything and refuses, with a message that says what to do, a
file that is not JSON or is truncated, is not a gradfit model file, was written by a
newer gradfit, misses a field or holds one of the wrong type, holds coefficients that
are not finite or lengths that disagree, or was modified after it was written.

>>> import tempfile, os, gradfit
>>> d = gradfit.load_dataset("davis")
>>> r = gradfit.fit(gradfit.ArraySource(d.X, d.y, feature_names=d.feature_names,
...                                      target_name=d.target_name))
>>> path = os.path.join(tempfile.mkdtemp(), "davis.json")
>>> _ = save(r, path, X=d.X, y=d.y)
>>> m = load(path)
>>> bool((m.model.w == r.w).all()), m.model.b == r.b, m.record.stop_code
(True, True, 'converged_gradient')
>>> bool((m.predict(d.X) == r.predict(d.X)).all())
True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gradfit.data.io import atomic_write_text
from gradfit.data.validation import as_features
from gradfit.exceptions import InvalidInputError
from gradfit.model.fitted import LinearModel
from gradfit.model.stats import SufficientStats
from gradfit.modelfile_schema import (
    _DATA,
    _MODEL,
    _RECORD,
    _RECORD_FIELDS,
    _RECORD_LATER,
    _SCALING,
    _TOP,
    _check_fields,
    _check_fingerprint,
    _check_weight_name,
    _short,
)
from gradfit.optim.schedules import constant
from gradfit.train.history import StopReason

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SavedModel",
    "TrainingRecord",
    "fingerprint",
    "load",
    "save",
]

FORMAT = "gradfit-model"
FORMAT_VERSION = 1


# -- what a file holds ----------------------------------------------------------------


class _Conditioning(NamedTuple):
    """The part of a ``Curvature`` a summary reads (``report.curvature.condition_number``)."""

    condition_number: float


@dataclass(frozen=True)
class TrainingRecord:
    """How the fit went, as saved: the parts of a ``TrainingReport`` that are plain values.

    It reads like a report where a summary needs one (``n_steps``, ``stop``,
    ``grad_norm``, ``gap``, ``curvature.condition_number``, ``optimizer``, ``n_epochs``).
    ``lr`` is the learning rate when it was constant (None: a schedule, described by
    ``lr_schedule``).
    """

    n_steps: int
    n_epochs: int
    stop_code: str
    stop_message: str
    grad_norm: float | None
    gap: float | None
    optimizer: str
    lr: float | None
    lr_schedule: str | None
    loss: float | None
    rank: int | None
    curvature_condition_number: float | None
    objective: str | None = None  # what was minimised when not least squares

    @property
    def stop(self) -> StopReason:
        return StopReason(self.stop_code, self.stop_message, self.n_steps)

    @property
    def converged(self) -> bool:
        return self.stop.converged

    @property
    def curvature(self) -> _Conditioning | None:
        kappa = self.curvature_condition_number
        return None if kappa is None else _Conditioning(kappa)

    @classmethod
    def from_report(cls, report: Any) -> TrainingRecord:
        """From a ``gradfit.train.TrainingReport``."""
        lr = report.lr
        rate = lr.lr if isinstance(lr, constant) else None
        curvature = getattr(report, "curvature", None)
        kappa = None if curvature is None else curvature.condition_number
        return cls(
            n_steps=int(report.n_steps),
            n_epochs=int(report.n_epochs),
            stop_code=str(report.stop.code),
            stop_message=str(report.stop.message),
            grad_norm=_finite_or_none(report.grad_norm),
            gap=_finite_or_none(report.gap),
            optimizer=str(report.optimizer),
            lr=_finite_or_none(rate),
            lr_schedule=None if lr is None else repr(lr),
            loss=_finite_or_none(report.loss),
            rank=None if report.rank is None else int(report.rank),
            curvature_condition_number=_finite_or_none(kappa),
            objective=getattr(report, "objective", None),
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_RECORD_FIELDS, *_RECORD_LATER)}


@dataclass(frozen=True)
class SavedModel:
    """A loaded model file: the line, how it was fitted, and where it came from.

    Attributes
    ----------
    model : LinearModel
        The fitted line, exactly as it was saved.
    record : TrainingRecord
        How the fit went (also ``report``, so that ``gradfit.summarize`` takes a
        ``SavedModel`` as it takes a ``FitResult``).
    options : dict
        The options that differed from their defaults; those that cannot be restored
        from a file (a ``Scaling``, a schedule, an update rule object) are their
        ``repr`` strings and named in ``not_restorable``.
    not_restorable : tuple of str
    gradfit_version : str
        The gradfit that wrote the file.
    data : dict or None
        Fingerprint of the training data (``rows``, ``feature_names``, ``target_name``,
        ``sha256`` of its sufficient statistics); None when the rows were not given.
    created : str
        When the file was written (UTC, ISO 8601).
    """

    model: LinearModel
    record: TrainingRecord
    options: dict[str, Any] = field(default_factory=dict)
    not_restorable: tuple[str, ...] = ()
    gradfit_version: str = ""
    data: dict[str, Any] | None = None
    created: str = ""

    __hash__ = None  # type: ignore[assignment]  # holds arrays and dicts

    @property
    def report(self) -> TrainingRecord:
        return self.record

    def predict(self, X: Any) -> np.ndarray:
        """``X w + b`` (``LinearModel.predict``: a DataFrame's columns matched by name)."""
        return self.model.predict(X)

    def restorable_options(self) -> dict[str, Any]:
        """The saved options that ``gradfit.fit`` can take again as they are."""
        return {k: v for k, v in self.options.items() if k not in self.not_restorable}


# -- saving ---------------------------------------------------------------------------


def fingerprint(
    X: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    feature_names: list[str] | None = None,
    target_name: str = "y",
) -> dict[str, Any]:
    """What identifies the rows a model was fitted to (arrays, or a data source as ``X``),
    without holding them.

    The SHA-256 is of the sufficient statistics (weight, means, cross-products), each
    rounded to 1e-10 of its scale: the same rows give the same digest however they were
    chunked (but for a statistic that falls on a rounding boundary, rarely).

    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.1])
    >>> fingerprint(X, y)["sha256"] == fingerprint(X.copy(), y.copy())["sha256"]
    True
    """
    weight_name = None
    if y is None and hasattr(X, "chunks"):  # a source: its statistics (one pass, kept)
        rows = int(X.n_rows)
        stats = SufficientStats.from_source(X)
        feature_names = feature_names or list(X.feature_names)
        weight_name = getattr(X, "weight_name", None)  # a file's weight column
    else:
        Xa = as_features(X)
        ya = np.asarray(y, dtype=np.float64).ravel()
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
        if ya.shape[0] != Xa.shape[0] or (sw is not None and sw.shape[0] != Xa.shape[0]):
            raise InvalidInputError(
                f"X has {Xa.shape[0]} rows, y {ya.shape[0]}"
                + ("" if sw is None else f", sample_weight {sw.shape[0]}")
                + ": pass the rows the model was fitted to"
            )
        rows = int(Xa.shape[0])
        stats = SufficientStats.from_arrays(Xa, ya, sw)
    digest = hashlib.sha256()
    for values, unit in _resolution(stats):
        digest.update(" ".join(f"{v:.0f}" for v in np.round(values / unit).ravel()).encode())
    names = feature_names or [f"x{j}" for j in range(stats.n_features)]
    return {
        "rows": rows,
        "feature_names": [str(n) for n in names],
        "target_name": str(target_name),
        "sha256": digest.hexdigest(),
        "weight_name": weight_name,
    }


def _resolution(stats: SufficientStats) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each statistic with the unit it is rounded to for the digest: 1e-10 of its own
    scale (a mean's: the column's size; a cross-product's: the geometric mean of the two
    columns' squares; the total weight's: about 1e-12 of it, and at least 1e-9). The same
    rows summed in other chunks (a file read in record batches, partitions of a cluster)
    differ by far less, rows that differ by far more."""
    tiny = np.finfo(np.float64).tiny
    x_size = np.abs(stats.x_mean) + np.sqrt(np.maximum(stats.x_var, 0.0))
    y_spread = np.sqrt(max(stats.Syy, 0.0) / stats.weight)
    y_size = abs(stats.y_mean) + y_spread
    sxx = np.sqrt(np.maximum(np.diag(stats.Sxx), 0.0))
    syy = np.sqrt(max(stats.Syy, 0.0))
    pairs = [
        # the total weight absolutely (all else is relative to scales the weights cancel in)
        (np.array([stats.weight]), np.array([0.01 * stats.weight + 10.0])),
        (stats.x_mean, x_size),
        (np.array([stats.y_mean]), np.array([y_size])),
        (stats.Sxx, np.outer(sxx, sxx)),
        (stats.Sxy, sxx * syy),
        (np.array([stats.Syy]), np.array([syy * syy])),
    ]
    return [(np.asarray(v, dtype=np.float64), 1e-10 * u + tiny) for v, u in pairs]


def save(
    result: Any,
    path: str | os.PathLike[str],
    *,
    options: Any = None,
    X: Any = None,
    y: Any = None,
    sample_weight: Any = None,
    data_fingerprint: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fit to ``path`` as a model file (JSON, atomically); returns the path.

    Parameters
    ----------
    result : FitResult
        A fit (``.model`` and ``.report``).
    options : FitOptions or dict, optional
        The options it was fitted with (a ``FitOptions`` is saved as ``changed()``).
    X, y, sample_weight : optional
        The training rows (or a data source as ``X``): saved as a fingerprint
        (``fingerprint``), never the rows.
    data_fingerprint : dict, optional
        A fingerprint computed before (instead of ``X`` and ``y``).
    """
    from gradfit import __version__

    model = getattr(result, "model", None)
    report = getattr(result, "report", None)
    if not isinstance(model, LinearModel) or report is None:
        raise InvalidInputError(
            f"save takes the result of a fit (with .model and .report), got {type(result).__name__}"
        )
    if not (np.all(np.isfinite(model.w)) and math.isfinite(model.b)):
        raise InvalidInputError("the model's coefficients are not finite: nothing to save")
    if (X is None) != (y is None) and not hasattr(X, "chunks"):
        raise InvalidInputError(
            "pass both X and y (the training rows), a data source as X, or neither"
        )
    if X is not None and data_fingerprint is not None:
        raise InvalidInputError("pass X and y or data_fingerprint, not both")
    data: dict[str, Any] | None = None
    if X is not None:
        data = fingerprint(
            X,
            y,
            sample_weight,
            feature_names=list(model.feature_names),
            target_name=model.target_name,
        )
    elif data_fingerprint is not None:
        data = dict(data_fingerprint)
        _check_fingerprint(data)
    changed = options.changed() if hasattr(options, "changed") else dict(options or {})
    saved_options, not_restorable = _json_options(changed)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gradfit_version": str(__version__),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model.to_dict(),
        "training": TrainingRecord.from_report(report).to_dict(),
        "options": saved_options,
        "not_restorable": not_restorable,
        "data": data,
    }
    payload["checksum"] = _checksum(payload)
    text = json.dumps(payload, sort_keys=True, indent=2, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def _json_options(changed: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Options as JSON values; what JSON cannot hold as it is becomes its repr."""
    out: dict[str, Any] = {}
    not_restorable: list[str] = []
    for name, value in changed.items():
        if isinstance(value, (bool, np.bool_)):
            out[name] = bool(value)
        elif isinstance(value, (int, np.integer)):
            out[name] = int(value)
        elif isinstance(value, (float, np.floating)) and math.isfinite(value):
            out[name] = float(value)
        elif value is None or isinstance(value, str):
            out[name] = value
        else:
            out[name] = repr(value)
            not_restorable.append(name)
    return out, not_restorable


def _checksum(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything but the checksum."""
    body = {k: v for k, v in payload.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


_FLOAT_FIELDS = ("grad_norm", "gap", "lr", "loss", "curvature_condition_number")


def _plain(name: str, value: Any) -> Any:
    """A float field as a float (``1`` written by hand: ``1.0``)."""
    return float(value) if name in _FLOAT_FIELDS and value is not None else value


# -- loading --------------------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file written by ``save``, checking all of it.

    Raises
    ------
    InvalidInputError
        The file is missing, not JSON (or truncated), not a gradfit model file, written
        by a newer gradfit, incomplete or edited (a field missing or of the wrong type,
        coefficients not finite, lengths that disagree, a checksum that does not match).
    """
    shown = os.fspath(path)
    try:
        return _load(shown)
    except InvalidInputError as err:
        raise InvalidInputError(str(err).replace("{file}", shown)) from None


def _load(shown: str) -> SavedModel:
    target = Path(shown)
    if target.is_dir():
        raise InvalidInputError("{file} is a folder: give a model file (.json)")
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            "no such model file: {file}: write one with gradfit fit ... -o MODEL.json "
            "(or gradfit.save)"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {{file}}: {exc.strerror or exc}: check the path and its permissions"
        ) from None
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        where = f" ({exc.msg}, line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidInputError(
            f"{{file}} is not a model file: it is not valid JSON{where}; it may be truncated "
            "or corrupt: refit and save it again, or restore it"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InvalidInputError(
            f'{{file}} is not a gradfit model file (no "format": {FORMAT!r}): give a file '
            "written by gradfit fit -o or gradfit.save"
        )
    version = payload.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInputError(
            f"{{file}}: field 'format_version' must be a whole number >= 1, got "
            f"{_short(version)}: the file was edited or damaged; refit and save again"
        )
    if version > FORMAT_VERSION:
        raise InvalidInputError(
            f"{{file}} was written by a newer gradfit (model format version {version}; this "
            f"gradfit reads up to {FORMAT_VERSION}): upgrade gradfit to read it"
        )
    _check_fields(payload, _TOP, "")
    m, t = payload["model"], payload["training"]
    _check_fields(m, _MODEL, "model.")
    _check_fields(m["scaling"], _SCALING, "model.scaling.")
    _check_fields(t, _RECORD, "training.")
    _check_fields(t, {k: v for k, v in _RECORD_LATER.items() if k in t}, "training.")
    if payload["data"] is not None:
        _check_fields(payload["data"], _DATA, "data.")
        _check_weight_name(payload["data"])
    w, mean, scale = m["w"], m["scaling"]["mean"], m["scaling"]["scale"]
    if not all(math.isfinite(v) for v in [*w, m["b"]]):
        raise InvalidInputError(
            "{file}: the model's coefficients are not all finite (NaN or infinity): the "
            "file was damaged or edited; refit and save again"
        )
    if not all(math.isfinite(v) for v in mean) or not all(
        math.isfinite(v) and v > 0 for v in scale
    ):
        raise InvalidInputError(
            "{file}: the model's scaling is not finite and positive: the file was damaged "
            "or edited; refit and save again"
        )
    lengths = {
        "w": len(w),
        "feature_names": len(m["feature_names"]),
        "scaling.mean": len(mean),
        "scaling.scale": len(scale),
    }
    if len(set(lengths.values())) != 1:
        shown_lengths = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise InvalidInputError(
            f"{{file}}: the model's lengths disagree ({shown_lengths}): the file was "
            "damaged or edited; refit and save again"
        )
    if payload["checksum"] != _checksum(payload):
        raise InvalidInputError(
            "{file}: the checksum does not match: the file was modified after it was "
            "written: refit or restore it"
        )
    return SavedModel(
        model=LinearModel.from_dict(m),
        record=TrainingRecord(
            **{k: _plain(k, t[k]) for k in _RECORD_FIELDS},
            **{k: t[k] for k in _RECORD_LATER if k in t},
        ),
        options=dict(payload["options"]),
        not_restorable=tuple(payload["not_restorable"]),
        gradfit_version=payload["gradfit_version"],
        data=payload["data"],
        created=payload["created"],
    )
