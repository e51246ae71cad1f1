"""What a gradfit model file must hold: each field, its type, and the message when not."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from gradfit.exceptions import InvalidInputError


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


# field: (check, what it must be)
_TOP: dict[str, tuple[Callable[[Any], bool], str]] = {
    "gradfit_version": (_is_str, "a string"),
    "created": (_is_str, "a string"),
    "model": (_is_dict, "an object"),
    "training": (_is_dict, "an object"),
    "options": (_is_dict, "an object"),
    "not_restorable": (_list_of(_is_str), "a list of strings"),
    "data": (_optional(_is_dict), "an object or null"),
    "checksum": (_is_str, "a string"),
}
_MODEL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "w": (_list_of(_is_number), "a list of numbers"),
    "b": (_is_number, "a number"),
    "feature_names": (_list_of(_is_str), "a list of strings"),
    "target_name": (_is_str, "a string"),
    "scaling": (_is_dict, "an object"),
    "fit_intercept": (_is_bool, "true or false"),
}
_SCALING: dict[str, tuple[Callable[[Any], bool], str]] = {
    "mean": (_list_of(_is_number), "a list of numbers"),
    "scale": (_list_of(_is_number), "a list of numbers"),
}
_RECORD: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n_steps": (_is_int, "a whole number"),
    "n_epochs": (_is_int, "a whole number"),
    "stop_code": (_is_str, "a string"),
    "stop_message": (_is_str, "a string"),
    "grad_norm": (_optional(_is_number), "a number or null"),
    "gap": (_optional(_is_number), "a number or null"),
    "optimizer": (_is_str, "a string"),
    "lr": (_optional(_is_number), "a number or null"),
    "lr_schedule": (_optional(_is_str), "a string or null"),
    "loss": (_optional(_is_number), "a number or null"),
    "rank": (_optional(_is_int), "a whole number or null"),
    "curvature_condition_number": (_optional(_is_number), "a number or null"),
}
_RECORD_FIELDS = tuple(_RECORD)
# fields added after format 1 was first written: checked when present (older files lack them)
_RECORD_LATER: dict[str, tuple[Callable[[Any], bool], str]] = {
    "objective": (_optional(_is_str), "a string or null"),
}
_DATA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "rows": (_is_int, "a whole number"),
    "feature_names": (_list_of(_is_str), "a list of strings"),
    "target_name": (_is_str, "a string"),
    "sha256": (lambda v: isinstance(v, str) and len(v) == 64, "a SHA-256 hex digest"),
}


def _check_fields(
    obj: Mapping[str, Any], spec: Mapping[str, tuple[Callable[[Any], bool], str]], where: str
) -> None:
    for name, (check, what) in spec.items():
        label = f"{where}{name}"
        if name not in obj:
            raise InvalidInputError(
                f"{{file}} has no field {label!r}: it is incomplete or was not written by "
                "gradfit.save; refit and save again"
            )
        if not check(obj[name]):
            raise InvalidInputError(
                f"{{file}}: field {label!r} must be {what}, got {_short(obj[name])}: the "
                "file was not written by gradfit.save or was edited; refit and save again"
            )


def _check_fingerprint(data: Mapping[str, Any]) -> None:
    try:
        _check_fields(data, _DATA, "data.")
        _check_weight_name(data)
    except InvalidInputError as err:
        raise InvalidInputError(str(err).replace("{file}", "data_fingerprint")) from None


def _check_weight_name(data: Mapping[str, Any]) -> None:
    """The weight column a file's rows were weighted by: optional (files from before it)."""
    name = data.get("weight_name")
    if name is not None and not _is_str(name):
        raise InvalidInputError(
            f"{{file}}: field 'data.weight_name' must be a string or null, got {_short(name)}: "
            "the file was not written by gradfit.save or was edited; refit and save again"
        )


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
