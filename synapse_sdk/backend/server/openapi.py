"""The OpenAPI documentation of the platform's routes, from each resource's schemas.

The routes read their bodies themselves (see ``routes/platform.py``), so FastAPI cannot infer
them: :class:`ResourceDocs` writes each route's request body, query parameters and answers
(``openapi_extra``), the errors included in our shape (:data:`ERROR_SCHEMA`).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from synapse_sdk.backend.spec import ResourceSpec


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` written in place (OpenAPI resolves refs from its own root)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


def query_param(
    name: str, schema: dict[str, Any], description: str, *, required: bool = False
) -> dict[str, Any]:
    """One query parameter of a route."""
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


class ResourceDocs:
    """The OpenAPI of one resource's routes: request bodies, query parameters and answers."""

    def __init__(self, spec: ResourceSpec) -> None:
        self.spec = spec
        self.input = inline(TypeAdapter(spec.create_schema).json_schema())
        self.changes = inline(TypeAdapter(spec.update_schema).json_schema())
        stamps = {
            "created_at": {"type": "number"},
            **({"updated_at": {"type": "number"}} if spec.has_updated_at else {}),
        }
        self.record = {
            "title": spec.singular.title().replace(" ", "").replace("-", ""),
            "type": "object",
            "properties": {"id": {"type": "integer"}, **self.input["properties"], **stamps},
            "required": list(spec.columns),
        }

    def _answer(self, status: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        errors = {
            code: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            for code, text in (
                ("400", "A field is wrong: detail and errors name it and the fix"),
                ("401", "No access token, or the wrong one"),
                ("404", "No record with that id"),
                ("409", "A duplicate, a record others refer to, or a frozen version"),
            )
        }
        answer = {"description": description, "content": {"application/json": {"schema": schema}}}
        return {"responses": {status: answer, **errors}}

    def listing(self, max_page_size: int, default_page_size: int) -> dict[str, Any]:
        """A listing: its filters, paging parameters and envelope."""
        filters = [
            query_param(
                key,
                self.input["properties"].get(key, {"type": "integer"}),
                f"only {self.spec.name} with this {key} (repeat it for any of several values)",
            )
            for key in self.spec.filters
        ]
        control = [
            query_param("page", {"type": "integer", "minimum": 1}, "page number (page mode)"),
            query_param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": max_page_size},
                f"records per page (default {default_page_size})",
            ),
            query_param(
                "pagination",
                {"type": "string", "enum": ["page", "cursor"]},
                "cursor: no count, for long listings",
            ),
            query_param("cursor", {"type": "integer", "minimum": 0}, "the last id seen (cursor mode)"),
        ]
        envelope = {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "description": "how many match (page mode only)"},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
                "results": {"type": "array", "items": self.record},
            },
            "required": ["next", "previous", "results"],
        }
        return {
            "parameters": [*filters, *control],
            **self._answer("200", envelope, f"A page of {self.spec.name}"),
        }

    def create(self) -> dict[str, Any]:
        """A create: one record or a list of them."""
        body = {"oneOf": [self.input, {"type": "array", "items": self.input}]}
        answer = {"oneOf": [self.record, {"type": "array", "items": self.record}]}
        return {
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            **self._answer("201", answer, "The record(s) created, with their ids"),
        }

    def one(self) -> dict[str, Any]:
        """A read of one record."""
        return self._answer("200", self.record, f"The {self.spec.singular}")

    def update(self) -> dict[str, Any]:
        """A change of one record."""
        return {
            "requestBody": {"required": True, "content": {"application/json": {"schema": self.changes}}},
            **self._answer("200", self.record, f"The {self.spec.singular} as changed"),
        }

    def deleted(self) -> dict[str, Any]:
        """A removal of one record."""
        schema = {"type": "object", "properties": {"deleted": {"type": "integer"}}, "required": ["deleted"]}
        return self._answer("200", schema, "The id removed")


#: The body of every error answer (``create_app``'s error handlers write it).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "what is wrong, where, and how to fix it"},
        "error": {
            "type": "string",
            "description": "the SDK's exception class (UsageError, ResourceConflict...)",
        },
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "the problem per field, like {'tasks[3].project': ['project 9 does not exist']}",
        },
    },
    "required": ["detail"],
}
