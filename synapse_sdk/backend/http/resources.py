"""``HttpResource``: one platform resource of a remote backend, with the embedded store's behaviour.

Items are validated here before anything is sent (the same messages as the embedded store, and
nothing sent when one item is wrong), then created in batches of :data:`BATCH` per request, each
stored all or none by the server; a batch's error names the item by its place in the caller's
list. Listings stream by cursor, a page per request. Bodies and answers are encoded and decoded
with pydantic-core's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

from pydantic_core import from_json, to_json

from synapse_sdk.backend.bulk import bulk_write
from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.backend.spec import ResourceSpec
from synapse_sdk.errors import ResourceNotFound, SynapseError

#: Records per create request (each stored all or none).
BATCH = 5000
#: Records per listing page (the server's largest page).
PAGE = 1000


class HttpResource:
    """The :class:`~synapse_sdk.backend.protocol.Resource` ``spec.name`` of a remote backend."""

    def __init__(self, transport: HttpTransport, spec: ResourceSpec) -> None:
        self._http = transport
        self.spec = spec
        self._path = f"/{spec.name}/"

    def __repr__(self) -> str:
        return f"HttpResource({self.spec.name!r}, {self._http.host!r})"

    def create(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and store one record; returns it with its ``id``."""
        self.spec.validate_many([item], self.spec.singular)
        record: dict[str, Any] = self._send("POST", self._path, item)
        return record

    def create_many(
        self, items: Sequence[Mapping[str, Any]], where: str | None = None
    ) -> list[dict[str, Any]]:
        """Validate every item, then store them in batches (each batch all or none)."""
        where = where or self.spec.name
        with bulk_write(len(items) if isinstance(items, Sized) else 0):
            self.spec.validate_many(items, where)
            created: list[dict[str, Any]] = []
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                try:
                    created.extend(
                        self._send("POST", self._path, batch if isinstance(batch, list) else list(batch))
                    )
                except SynapseError as exc:
                    raise _renamed(exc, self.spec.name, where, start) from None
            return created

    def get(self, record_id: int) -> dict[str, Any]:
        """One record; ``ResourceNotFound`` if there is none."""
        record: dict[str, Any] = self._send("GET", f"{self._path}{int(record_id)}/")
        return record

    def find(self, record_id: int) -> dict[str, Any] | None:
        """One record, or None."""
        try:
            return self.get(record_id)
        except ResourceNotFound:
            return None

    def update(self, record_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change updatable fields of one record; returns it as stored."""
        self.spec.validate_update(fields, f"{self.spec.name}/{int(record_id)}")
        record: dict[str, Any] = self._send("PATCH", f"{self._path}{int(record_id)}/", fields)
        return record

    def delete(self, record_id: int) -> None:
        """Remove one record."""
        self._send("DELETE", f"{self._path}{int(record_id)}/")

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        """How many records match ``filters``."""
        params = {**self._query(self.spec.check_filters(filters or {})), "page_size": 1}
        return int(self._send("GET", self._path, params=params)["count"])

    def page(
        self, filters: Mapping[str, Any] | None = None, *, after: int = 0, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` records by id: after id ``after`` (cursor mode), skipping ``offset`` (pages)."""
        return self._page(self.spec.check_filters(filters or {}), after, limit, offset)

    def iterate(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every record matching ``filters``, by id, a page per request."""
        return self._iterate(self.spec.check_filters(filters or {}), page_size)

    def _iterate(self, checked: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            rows = self._page(checked, after, page_size, 0)
            yield from rows
            if len(rows) < page_size:
                return
            after = rows[-1]["id"]

    def _page(self, checked: dict[str, Any], after: int, limit: int, offset: int) -> list[dict[str, Any]]:
        params = self._query(checked)
        if offset:
            params.update(offset=offset, page_size=limit)
        else:
            params.update(pagination="cursor", cursor=after, page_size=limit)
        results: list[dict[str, Any]] = self._send("GET", self._path, params=params)["results"]
        return results

    def _send(self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None) -> Any:
        content = None if body is None else to_json(body)
        response = self._http.request(
            method, path, params=params, content=content, content_type="application/json"
        )
        try:
            return from_json(response.content)
        except ValueError:
            raise self._http.error_for(method, path, response) from None

    @staticmethod
    def _query(checked: Mapping[str, Any]) -> dict[str, Any]:
        """Checked filters as query parameters (a list repeats its key; None is ``null``)."""
        query: dict[str, Any] = {}
        for key, value in checked.items():
            values = value if isinstance(value, list) else [value]
            shown = [
                "null" if v is None else ("true" if v else "false") if isinstance(v, bool) else v
                for v in values
            ]
            query[key] = shown if isinstance(value, list) else shown[0]
        return query


def _renamed(exc: SynapseError, name: str, where: str, start: int) -> SynapseError:
    """The server's error for a batch, naming the item by its place in the caller's whole list."""
    if not start and where == name:
        return exc
    message = re.sub(
        rf"^{re.escape(name)}\[(\d+)\]", lambda m: f"{where}[{start + int(m.group(1))}]", str(exc)
    )
    if message == str(exc):
        return exc
    renamed = type(exc).__new__(type(exc))
    renamed.args = (message,)
    renamed.__dict__.update(exc.__dict__)
    return renamed
