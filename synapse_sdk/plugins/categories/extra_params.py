"""``extra_params`` that are fields of a subclassed params model, validated as those fields.

The spec's plugins subclass a category's params model (``class CustomExportParams(ExportParams):
output_format: str = "json"``) and their users give the new fields inside ``extra_params``. Left
there, the model would fill the field with its default and the user's value would be lost; so
each such key is also set at the top level before validation, and messages about it name it
where the user wrote it (``params.extra_params.output_format: ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from synapse_sdk.errors import ParamsError


def validate_lifting_extra_params(
    validate: Callable[[dict[str, Any]], BaseModel | None],
    model: type[BaseModel] | None,
    base: type[BaseModel],
    params: dict[str, Any],
    tidy: Callable[[str], str] = str,
) -> BaseModel | None:
    """``validate(params)`` with the ``extra_params`` keys ``model`` declares beyond ``base`` lifted.

    A ``ParamsError`` is raised again with its message passed through ``tidy`` and the lifted
    keys named as ``params.extra_params.<key>``.
    """
    lifted = _lift(model, frozenset(base.model_fields), params) if model is not None else params
    try:
        return validate(lifted)
    except ParamsError as exc:
        message = tidy(str(exc))
        for key in params.get("extra_params") or {}:
            if key in lifted and key not in params:
                message = message.replace(f"params.{key}:", f"params.extra_params.{key}:")
        raise ParamsError(message) from None


def _lift(model: type[BaseModel], base_fields: frozenset[str], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each ``extra_params`` key the model declares (beyond ``base_fields``) set at
    the top level too, so its value is validated there rather than replaced by the default."""
    extra = params.get("extra_params")
    if not isinstance(extra, dict):
        return params
    lifted = dict(params)
    for key, value in extra.items():
        if key in base_fields or key not in model.model_fields:
            continue
        if key in params and params[key] != value:
            raise ParamsError(
                f"params.{key}: given twice, as {params[key]!r} and as extra_params.{key} {value!r}; "
                "give it once"
            )
        lifted[key] = value
    return lifted
