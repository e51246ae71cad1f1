"""The fitted line as a plain value: what a fit produces and what model files will hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.data.scaling import Scaling
from gradfit.data.validation import as_features
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LinearModel):
            return NotImplemented
        return (
            np.array_equal(self.w, other.w)
            and self.b == other.b
            and self.feature_names == other.feature_names
            and self.target_name == other.target_name
            and np.array_equal(self.scaling.mean, other.scaling.mean)
            and np.array_equal(self.scaling.scale, other.scaling.scale)
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays

    @property
    def n_features(self) -> int:
        return int(self.w.shape[0])

    def predict(self, X: Any) -> np.ndarray:
        """``X w + b`` (X in the original units of the features)."""
        Xa = as_features(X)
        if Xa.shape[1] != self.n_features:
            raise InvalidInputError(
                f"X has {Xa.shape[1]} feature columns, the model {self.n_features} "
                f"({', '.join(self.feature_names)}): pass the same columns"
            )
        return np.asarray(predict(Xa, self.w, self.b)).ravel()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; floats are exact (``repr`` round-trips)."""
        return {
            "w": self.w.tolist(),
            "b": float(self.b),
            "feature_names": list(self.feature_names),
            "target_name": self.target_name,
            "scaling": {"mean": self.scaling.mean.tolist(), "scale": self.scaling.scale.tolist()},
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
        )
