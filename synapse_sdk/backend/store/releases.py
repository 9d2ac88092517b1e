"""Published releases in the embedded store: rows in SQLite, archives as files named by checksum."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
from pathlib import Path

from pydantic import ValidationError

from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord, problems, read_releases
from synapse_sdk.backend.store.db import Database
from synapse_sdk.errors import ChecksumMismatch, PluginNotFound, ReleaseError, did_you_mean
from synapse_sdk.packaging.checksum import require_sha256, sha256_bytes

_COLUMNS = (
    "code, version, name, category, description, config, checksum, source_checksum, archive, size, lock,"
    " created_at"
)


logger = logging.getLogger(__name__)


def _data(row: sqlite3.Row) -> dict[str, object]:
    data = dict(row)
    try:
        data["config"] = json.loads(data["config"])
    except (ValueError, TypeError, RecursionError):
        data["config"] = None  # read_releases reports it
    return data


def _record(row: sqlite3.Row) -> ReleaseRecord:
    """One stored release; a row that breaks the rules is a ``ReleaseError`` saying to publish again."""
    data = _data(row)
    try:
        return ReleaseRecord.model_validate(data)
    except ValidationError as exc:
        raise ReleaseError(
            f"release {str(data.get('code'))[:100]}@{str(data.get('version'))[:64]} is damaged "
            f"({problems(exc, 2)}); publish it again under a valid version"
        ) from None


def refuse_changed(existing: ReleaseRecord, source_checksum: str) -> None:
    """Versions are immutable: raise ``ReleaseError`` if ``existing`` was published with other content."""
    if existing.source_checksum != source_checksum:
        raise ReleaseError(
            f"{existing.uri} is already published with different content (sha256 "
            f"{existing.source_checksum[:12]}…, now {source_checksum[:12]}…); versions are immutable: "
            "bump 'version' in config.yaml and publish again"
        )


def refuse_corrupt(new: NewRelease, archive: bytes) -> None:
    """Raise ``ChecksumMismatch`` unless ``archive`` has the checksum and size ``new`` declares."""
    actual = sha256_bytes(archive)
    if actual != new.checksum or len(archive) != new.size:
        raise ChecksumMismatch(
            f"{new.code}@{new.version}: the uploaded archive has sha256 {actual} ({len(archive)} bytes), "
            f"not the declared {new.checksum} ({new.size} bytes); upload again"
        )


def refuse_mismatched(new: NewRelease, archive: bytes) -> None:
    """Raise ``ReleaseError`` unless ``archive`` is a safe release archive whose config.yaml is ``new``'s.

    Every member is checked as extraction would check it (no links, devices, ``..``...:
    ``UnsafeArchive``), and the archive's own ``config.yaml`` must name the same code, version
    and category as the metadata sent with it: what a registry lists is what a run extracts.
    """
    import yaml

    from synapse_sdk.packaging.members import check_archive

    label = f"{new.code}@{new.version}: the uploaded archive"
    text = check_archive(archive, label, want="config.yaml")
    if text is None:
        raise ReleaseError(f"{label} has no config.yaml at its top; publish with 'synapse plugin publish'")
    try:
        config = yaml.safe_load(text.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        config = None
    if not isinstance(config, dict):
        raise ReleaseError(
            f"{label}: its config.yaml is not a YAML mapping; publish with 'synapse plugin publish'"
        )
    sent = {"code": new.code, "version": new.version, "category": new.category}
    differ = [key for key, value in sent.items() if str(config.get(key)) != value]
    if differ:
        found = ", ".join(f"{key} {str(config.get(key))[:60]!r}" for key in differ)
        meant = ", ".join(f"{key} {sent[key][:60]!r}" for key in differ)
        raise ReleaseError(
            f"{label}: its config.yaml has {found} but the release metadata {meant}; "
            "publish with 'synapse plugin publish', which takes both from one config.yaml"
        )


class ReleaseStore:
    """The embedded releases resource under ``SYNAPSE_HOME``: rows in ``db``, archives in ``archives_dir``.

    ``db`` is the embedded backend's :class:`Database`, or the path of one to open.
    """

    def __init__(self, db: Database | str | Path, archives_dir: str | Path) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self.archives_dir = Path(archives_dir)

    def __repr__(self) -> str:
        return f"ReleaseStore({str(self.db.path)!r}, {str(self.archives_dir)!r})"

    def add_release(self, new: NewRelease, archive: bytes) -> tuple[ReleaseRecord, bool]:
        """Write the archive (atomically, by checksum) then the row; same content again is a no-op.

        An archive that does not match its declared checksum and size is ``ChecksumMismatch``;
        one that is not a safe release archive of the same code, version and category is
        ``ReleaseError`` (see :func:`refuse_mismatched`).
        """
        refuse_corrupt(new, archive)
        refuse_mismatched(new, archive)
        with self.db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM plugin_releases WHERE code=? AND version=?", (new.code, new.version)
            ).fetchone()
            if row is not None:
                existing = _record(row)
                refuse_changed(existing, new.source_checksum)
                return existing, False
            location = self._write_archive(new.checksum, archive)
            conn.execute(
                f"INSERT INTO plugin_releases ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    new.code, new.version, new.name, new.category, new.description,
                    json.dumps(new.config), new.checksum, new.source_checksum, str(location),
                    new.size, new.lock, time.time(),
                ),
            )  # fmt: skip
        record = self.find_release(new.code, new.version)
        assert record is not None
        return record, True

    def _write_archive(self, checksum: str, data: bytes) -> Path:
        self.archives_dir.mkdir(parents=True, exist_ok=True)
        final = self.archives_dir / f"{require_sha256(checksum, 'release archive')}.tar.gz"
        tmp = self.archives_dir / f".tmp-{uuid.uuid4().hex}"
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(final)
        return final

    def find_release(self, code: str, version: str) -> ReleaseRecord | None:
        """The release ``code@version``, or None."""
        row = self.db.query_one(
            f"SELECT {_COLUMNS} FROM plugin_releases WHERE code=? AND version=?", (code, version)
        )
        return _record(row) if row is not None else None

    def list_releases(self, code: str | None = None) -> list[ReleaseRecord]:
        """Releases of ``code`` (every plugin when None), by code then newest version first."""
        from synapse_sdk.plugins.versions import version_key

        if code is None:
            rows = self.db.query(f"SELECT {_COLUMNS} FROM plugin_releases")
        else:
            rows = self.db.query(f"SELECT {_COLUMNS} FROM plugin_releases WHERE code=?", (code,))
        records, damaged = read_releases([_data(r) for r in rows])
        for line in damaged:
            logger.warning(line)
        records.sort(key=lambda r: version_key(r.version), reverse=True)
        return sorted(records, key=lambda r: r.code)

    def get_release(self, code: str, version: str | None = None) -> ReleaseRecord:
        """The release ``code@version`` (newest when None), or ``PluginNotFound`` naming what exists."""
        if version is not None:
            record = self.find_release(code, version)
            if record is not None:
                return record
        releases = self.list_releases(code)
        if version is None and releases:
            return newest(releases)
        raise not_found(code, version, releases, [r.code for r in self.list_releases()])

    def fetch_archive(self, record: ReleaseRecord, cache_dir: Path) -> Path:
        """The stored archive file itself (the caller verifies its checksum)."""
        path = Path(record.archive)
        if not path.is_file():
            raise ReleaseError(
                f"{record.uri}: archive {path} is missing from the store; publish the plugin again"
            )
        return path


def newest(releases: list[ReleaseRecord]) -> ReleaseRecord:
    """The newest stable release (pre-releases only when there is nothing else); ``releases`` sorted."""
    stable = [r for r in releases if "-" not in r.version.split("+")[0]]
    return (stable or releases)[0]


def not_found(
    code: str, version: str | None, releases: list[ReleaseRecord], codes: list[str]
) -> PluginNotFound:
    """A ``PluginNotFound`` that lists the versions (or plugins) that do exist."""
    wanted = f"{code}@{version}" if version else code
    if releases:
        versions = ", ".join(r.version for r in releases)
        return PluginNotFound(f"release {wanted!r} is not published; published versions: {versions}")
    return PluginNotFound(
        f"plugin {code!r} has no published release{did_you_mean(code, set(codes))}; "
        "publish it with 'synapse plugin publish' (see 'synapse plugin list')"
    )
