"""Publish a plugin folder as a release, and fetch a release back as a verified, extracted folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.backend.protocol import ReleasesResource
from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord
from synapse_sdk.errors import ReleaseError
from synapse_sdk.packaging.archive import build_archive, collect_files
from synapse_sdk.packaging.checksum import require_sha256, sha256_bytes, verify_file
from synapse_sdk.packaging.extract import extract_once, remove_tree
from synapse_sdk.packaging.manifest import verify_release
from synapse_sdk.packaging.members import name_problem, short
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.runtime_env.spec import LOCK_FILE, REQUIREMENTS_FILE, requirement_lines

if TYPE_CHECKING:
    from synapse_sdk.plugins.loader import LoadedPlugin
    from synapse_sdk.runtime_env.venv import BuildObserver
    from synapse_sdk.settings import Settings


@dataclass(frozen=True)
class ReleasePlan:
    """What ``publish`` would send: the validated config, the files and their content checksum."""

    path: Path
    config: PluginConfig
    files: list[str]
    source_archive: bytes
    source_checksum: str
    #: Packages the actions' ``get_runtime_env()`` add to requirements.txt (the spec's way to add one).
    extra_requirements: list[str] = field(default_factory=list)

    @property
    def needs_lock(self) -> bool:
        """True if there is something to install and the plugin ships no lock of its own."""
        reqs = self.path / REQUIREMENTS_FILE
        has_reqs = REQUIREMENTS_FILE in self.files and bool(requirement_lines(reqs.read_text("utf-8")))
        return (has_reqs or bool(self.extra_requirements)) and LOCK_FILE not in self.files


@dataclass(frozen=True)
class PublishResult:
    """A published (or already identical) release."""

    record: ReleaseRecord
    created: bool


def plan_release(path: str | Path | None = None) -> ReleasePlan:
    """Validate the plugin (config and every entrypoint) and list what its release contains."""
    from synapse_sdk.plugins.loader import load_plugin

    loaded = load_plugin(path)
    files = collect_files(loaded.path)
    for name in files:  # what extraction would refuse is refused here, where it can be fixed
        if problem := name_problem(name):
            raise ReleaseError(
                f"{loaded.path}: file {short(name)} cannot be packaged ({problem}); "
                "rename it or list it in .synapseignore"
            )
    source = build_archive(loaded.path, files)
    extra = runtime_env_packages(loaded)
    return ReleasePlan(loaded.path, loaded.config, files, source, sha256_bytes(source), extra)


def runtime_env_packages(loaded: LoadedPlugin) -> list[str]:
    """Packages each action's ``get_runtime_env()`` lists beyond the plugin's requirements file."""
    from synapse_sdk.plugins.categories.base import read_requirements

    declared = set(read_requirements(loaded.path))
    extra: list[str] = []
    for name, cls in loaded.actions.items():
        action = cls.bare(loaded.config, plugin_path=loaded.path)  # no params, no run
        try:
            packages = (action.get_runtime_env().get("pip") or {}).get("packages") or []
        except Exception as exc:
            raise ReleaseError(
                f"{loaded.path / 'config.yaml'}: actions.{name}: get_runtime_env() failed without params "
                f"or a run: {type(exc).__name__}: {exc}; build the env from self.plugin_config/self.envs only"
            ) from None
        extra += [str(p) for p in packages if str(p) not in declared and str(p) not in extra]
    return extra


def publish(path: str | Path | None, registry: ReleasesResource) -> PublishResult:
    """Publish the plugin at ``path``: lock its requirements, archive, checksum, store.

    The same content again is a no-op; other content under a published version is refused.
    """
    from synapse_sdk.backend.store.releases import refuse_changed

    plan = plan_release(path)
    config = plan.config
    existing = registry.find_release(config.code, config.version)
    if existing is not None:
        refuse_changed(existing, plan.source_checksum)
        return PublishResult(existing, created=False)
    archive, lock = plan.source_archive, ""
    if plan.needs_lock:
        from synapse_sdk.runtime_env.lock import compile_lock

        lock = compile_lock(plan.path, plan.extra_requirements)
        archive = build_archive(plan.path, plan.files, extra={LOCK_FILE: lock.encode()})
    elif LOCK_FILE in plan.files:
        lock = (plan.path / LOCK_FILE).read_text(encoding="utf-8")
    new = NewRelease(
        code=config.code,
        version=config.version,
        name=config.name,
        category=config.category.value,
        description=config.description,
        config=config.model_dump(mode="json"),
        checksum=sha256_bytes(archive),
        source_checksum=plan.source_checksum,
        size=len(archive),
        lock=lock,
    )
    record, created = registry.add_release(new, archive)
    return PublishResult(record, created)


def releases_dir(home: Path) -> Path:
    """Where verified releases are extracted, one folder per archive checksum."""
    return home / "releases"


def install_release(record: ReleaseRecord, registry: ReleasesResource, home: Path) -> Path:
    """The release's folder, named by its archive checksum and verified against its manifest.

    The first time, the archive is fetched, its sha256 verified and it is extracted (safely, see
    :mod:`~synapse_sdk.packaging.extract`); afterwards the folder's manifest is what is checked,
    so a file edited inside it stops the run (``ChecksumMismatch``).
    """
    checksum = require_sha256(record.checksum, what=f"{record.uri}: checksum")
    folder = releases_dir(home) / checksum
    if not os.path.lexists(folder):
        from synapse_sdk.settings import make_folder

        archive = registry.fetch_archive(record, home / "downloads")
        verify_file(archive, checksum, what=f"{record.uri} archive")
        make_folder(releases_dir(home))  # a file or no permission there: one line naming it
        extract_once(archive, folder)
    verify_release(folder)
    return folder


def verify_if_release(path: Path, home: Path) -> Path:
    """``path``, after :func:`verify_release` of its release if it lies in ``SYNAPSE_HOME/releases``.

    However a folder was reached (``--path``, ``SYNAPSE_PLUGIN_PATH``), one inside an extracted
    release is run only if the whole release still matches its manifest.
    """
    root = releases_dir(home).resolve()
    resolved = path.resolve()
    if resolved != root and resolved.is_relative_to(root):
        verify_release(root / resolved.relative_to(root).parts[0])
    return path


def resolve_release(code: str, version: str | None, home: Path, registry: ReleasesResource) -> Path:
    """The extracted folder of ``code@version`` (newest when None), verified before it is returned."""
    record = registry.get_release(code, version)
    return install_release(record, registry, home)


def resolve_plugin_ref(plugin: str, settings: Settings | None = None) -> Path:
    """``code@version`` or ``code`` (newest): a published release first, else a plugin-path folder."""
    from synapse_sdk.backend import get_backend
    from synapse_sdk.errors import PluginNotFound
    from synapse_sdk.plugins.registry import find_plugin
    from synapse_sdk.settings import Settings

    settings = settings or Settings.from_env()
    code, _, version = plugin.partition("@")
    registry = get_backend(settings).releases
    try:
        record = registry.get_release(code, version or None)
    except PluginNotFound as exc:
        try:
            found = find_plugin(code, version or None)
        except PluginNotFound:
            raise exc from None
        return verify_if_release(found, settings.home)
    return install_release(record, registry, settings.home)


def is_release_dir(path: Path, home: Path) -> bool:
    """True if ``path`` is an extracted, verified release (not a developer's folder)."""
    return path.resolve().is_relative_to(releases_dir(home).resolve())


def release_python(
    path: Path,
    config: PluginConfig,
    home: Path,
    observer: BuildObserver | None = None,
    build_log: Path | None = None,
) -> str:
    """The interpreter a release runs with: its cached env, or this one when it needs no packages
    (``observer`` and ``build_log``: see :func:`~synapse_sdk.runtime_env.venv.ensure_env`)."""
    from synapse_sdk.runtime_env.spec import RuntimeEnvSpec
    from synapse_sdk.runtime_env.venv import ensure_env

    spec = RuntimeEnvSpec.from_plugin(path, config)
    return str(ensure_env(spec, home, label=config.uri, observer=observer, build_log=build_log))


def prune_release_leftovers(home: Path, min_age: float = 600.0) -> list[Path]:
    """Remove temporary folders of interrupted extractions and downloads older than ``min_age`` seconds."""
    import time

    removed = []
    for leftover in [*releases_dir(home).glob(".tmp-*"), *(home / "downloads").glob(".tmp-*")]:
        if time.time() - leftover.stat().st_mtime >= min_age:
            if leftover.is_dir():
                remove_tree(leftover)  # an extraction may have made it read-only already
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed
