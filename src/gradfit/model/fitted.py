"""The fitted line as a plain value: what a fit produces and what model files will hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.source import is_source
from gradfit.data.validation import as_features, feature_names_of
from gradfit.exceptions import InvalidInputError
from gradfit.model.linear import predict

__all__ = ["LinearModel"]


@dataclass(frozen=True)
class LinearModel:
    """``y = X w + b`` in original units, with the names and scaling it was fitted with.

    >>> m = LinearModel(np.array([2.0]), 1.0, ["height"], "weight", Scaling.identity(1))
    >>> m.predict([[1.0], [2.0]]).tolist()
    [3.0, 5.0]
    >>> LinearModel.from_dict(m.to_dict()) == m
    True
    """

    w: np.ndarray
    b: float
    feature_names: list[str]
    target_name: str
    scaling: Scaling
    fit_intercept: bool = True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LinearModel):
            return NotImplemented
        return (
            np.array_equal(self.w, other.w)
            and self.b == other.b
            and self.feature_names == other.feature_names
            and self.target_name == other.target_name
            and self.scaling.same_as(other.scaling)
            and self.fit_intercept == other.fit_intercept
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays

    @property
    def n_features(self) -> int:
        return int(self.w.shape[0])

    def predict(self, X: Any) -> np.ndarray:
        """``X w + b`` (X in the original units of the features).

        A DataFrame's columns are matched to the model's features by name, in any
        order (other columns are not used); an array's columns by position.

        >>> import pandas as pd
        >>> m = LinearModel(np.array([2.0, 0.0]), 1.0, ["a", "b"], "y", Scaling.identity(2))
        >>> m.predict(pd.DataFrame({"b": [5.0], "a": [1.0]})).tolist()
        [3.0]
        """
        if is_source(X):  # chunk by chunk, the model's features by name
            by_name = getattr(X, "features_by_name", None)
            if by_name is not None:  # a file: its columns, whatever the source's features
                blocks: Any = by_name(self.feature_names)
            elif list(X.feature_names) == list(self.feature_names):
                blocks = (c.X for c in X.chunks())
            else:
                raise InvalidInputError(
                    f"the source has the features {X.feature_names}, the model "
                    f"{self.feature_names}: give it the model's features"
                )
            parts = [np.asarray(predict(b, self.w, self.b)).ravel() for b in blocks]
            return np.concatenate(parts) if parts else np.empty(0)
        names = feature_names_of(X)
        if names is not None:
            X = self._by_name(X, names)
        Xa = as_features(X)
        if Xa.shape[1] != self.n_features:
            raise InvalidInputError(
                f"X has {Xa.shape[1]} feature columns, the model {self.n_features} "
                f"({', '.join(self.feature_names)}): pass the same columns"
            )
        return np.asarray(predict(Xa, self.w, self.b)).ravel()

    def _by_name(self, X: Any, names: list[str]) -> Any:
        """The model's feature columns of a DataFrame-like ``X``, in the model's order."""
        missing = [n for n in self.feature_names if n not in names]
        if missing:
            unnamed = self.feature_names == [f"x{j}" for j in range(self.n_features)]
            fix = (
                "this model was fitted without feature names: pass X.to_numpy() to match "
                "columns by position"
                if unnamed
                else "pass a DataFrame with these columns"
            )
            raise InvalidInputError(
                f"X has no column {', '.join(map(repr, missing))} of the model's features "
                f"({', '.join(map(repr, self.feature_names))}); its columns are "
                f"{', '.join(map(repr, names))}: {fix}"
            )
        twice = [n for n in self.feature_names if names.count(n) > 1]
        if twice:
            raise InvalidInputError(
                f"X has more than one column named {', '.join(map(repr, twice))}: rename them "
                "so that each column has its own name"
            )
        if names == self.feature_names:
            return X
        return X[list(self.feature_names)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; floats are exact (``repr`` round-trips)."""
        return {
            "w": self.w.tolist(),
            "b": float(self.b),
            "feature_names": list(self.feature_names),
            "target_name": self.target_name,
            "scaling": {"mean": self.scaling.mean.tolist(), "scale": self.scaling.scale.tolist()},
            "fit_intercept": self.fit_intercept,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        w = np.asarray(data["w"], dtype=np.float64)
        scaling = data["scaling"]
        return cls(
            w=w,
            b=float(data["b"]),
            feature_names=[str(n) for n in data["feature_names"]],
            target_name=str(data["target_name"]),
            scaling=Scaling(
                np.asarray(scaling["mean"], dtype=np.float64),
                np.asarray(scaling["scale"], dtype=np.float64),
            ),
            fit_intercept=bool(data.get("fit_intercept", True)),
        )
