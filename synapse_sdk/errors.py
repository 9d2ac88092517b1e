"""The one exception tree of the SDK; every message says what is wrong and how to fix it.

SynapseError                 exit 1 unless a subclass says otherwise
├── ConfigError              exit 2: config.yaml is missing or invalid
├── ParamsError              exit 2: action params are unparseable or fail validation
│   └── AnnotationError      exit 2: annotation data is not valid DM v2, or a COCO file is broken
├── PluginNotFound           exit 2: no plugin where one was asked for
├── ActionNotFound           exit 2: the plugin or category has no such action
├── UsageError               exit 2: a command was called with bad arguments
├── ReleaseError             exit 2: a release cannot be built, found or used
│   ├── ChecksumMismatch     exit 2: an archive does not match its recorded sha256
│   ├── UnsafeArchive        exit 2: an archive entry would land outside its folder
│   └── EnvBuildError        exit 2: a release's runtime environment cannot be built
├── ExecutionError           exit 1: an action could not be run or failed
├── RunNotFound              exit 2: no run or job with that id
├── RunConflict              exit 2: a run id is taken, or a run is not in the expected state
├── ResourceNotFound         exit 2: no platform record (project, task, storage...) with that id
├── ResourceConflict         exit 2: a platform record exists already, or cannot change (frozen)
├── FileChecksumMismatch     exit 2: an uploaded file's bytes do not hash to its given sha256
├── BackendError             exit 1: the run store or HTTP backend failed
└── StorageError             exit 1: a storage provider failed
    └── PathOutsideRoot      exit 2: a path escapes its storage root
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import ClassVar


class SynapseError(Exception):
    """Base of every error the SDK raises on purpose."""

    exit_code: ClassVar[int] = 1


class ConfigError(SynapseError):
    """A plugin's config.yaml is missing or invalid; ``problems`` lists every problem found."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class ParamsError(SynapseError):
    """Action params could not be parsed or failed the action's ``params_model``."""

    exit_code = 2


class AnnotationError(ParamsError):
    """Annotation data is not valid DM v2, or an annotation file is broken; ``problems`` lists each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class PluginNotFound(SynapseError):
    """No plugin at the given path, code or version."""

    exit_code = 2


class ActionNotFound(SynapseError):
    """The plugin or category has no action of that name."""

    exit_code = 2


class UsageError(SynapseError):
    """A command or function was called with arguments that cannot work."""

    exit_code = 2


class ReleaseError(SynapseError):
    """A plugin release cannot be built, found, fetched or used."""

    exit_code = 2


class ChecksumMismatch(ReleaseError):
    """A release archive does not match the sha256 recorded when it was published."""


class UnsafeArchive(ReleaseError):
    """An archive entry is absolute, climbs out with ``..``, or is a link pointing outside."""


class EnvBuildError(ReleaseError):
    """A runtime environment could not be built (unknown requirement, resolver conflict)."""


class ExecutionError(SynapseError):
    """An action could not be started, or ended in failure."""

    def __init__(self, message: str, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


class RunNotFound(SynapseError):
    """No run or job has that id."""

    exit_code = 2


class RunConflict(SynapseError):
    """A run id is already taken, or a run is not in the state an operation expects."""

    exit_code = 2


class ResourceNotFound(SynapseError):
    """No platform record (storage, project, task, ground-truth version, model...) has that id."""

    exit_code = 2


class ResourceConflict(SynapseError):
    """A platform record exists already (a unique name, a task per data unit), or cannot change
    (a frozen ground-truth version)."""

    exit_code = 2


class FileChecksumMismatch(SynapseError):
    """A file's stored bytes do not hash to the sha256 given for it: it changed while it was uploaded.

    Nothing is recorded or left in the storage. ``path``, ``expected`` and ``actual`` say which
    file and which hashes (None when the error came back from an HTTP server as a message only).
    """

    exit_code = 2

    def __init__(
        self, message: str, *, path: str | None = None, expected: str | None = None, actual: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class BackendError(SynapseError):
    """The run store or the HTTP backend could not do what was asked."""


class StorageError(SynapseError):
    """A storage provider failed to read or write."""


class PathOutsideRoot(StorageError):
    """A path resolves outside the root it must stay in."""

    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


class ActionStopped(BaseException):  # noqa: N818 - a control-flow signal like KeyboardInterrupt
    """Raised inside a running action when its job is asked to stop (``synapse job stop``)."""
