"""What an import reports: its phases as they advance, and what it did (:class:`ImportReport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

#: The phases ``progress`` is called with, in this order (each first with ``done=0``).
PHASES: Final = ("upload", "data_units", "tasks", "ground_truth")
#: ``progress(phase, done, total)``: called as each phase advances.
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    """What an import did: what it created and what it found already there, and what it skipped."""

    project: int
    data_collection: int
    #: Images in the dataset (the COCO file, the folder).
    images: int = 0
    #: Image files stored (or found stored, by content).
    uploaded: int = 0
    data_units_created: int = 0
    data_units_reused: int = 0
    tasks_created: int = 0
    tasks_reused: int = 0
    #: Objects (a COCO annotation, a YOLO row, a VOC object) and tags carried into this import's tasks.
    annotations: int = 0
    #: Images skipped because their file is missing (``skip_missing``).
    skipped: int = 0
    #: Images whose bytes equal an earlier image's: one data unit and task hold the first one's annotations.
    duplicates: int = 0
    ground_truth_dataset: int | None = None
    ground_truth_version: int | None = None
    #: The version label (``"1"``, ``"2"``...).
    version: str | None = None
    #: Whether a frozen version with the same items was found, instead of a new one made.
    version_reused: bool = False
    #: Events per split of the version, like ``{"train": 240, "val": 60}``.
    splits: dict[str, int] = field(default_factory=dict)
    #: One line per skipped or duplicate image, or an image whose size differs from the dataset's.
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line: what was imported into which project, and what was found already there."""
        text = (
            f"imported {self.images - self.skipped} of {self.images} image(s) into project {self.project}: "
            f"{self.data_units_created} data unit(s) created, {self.data_units_reused} found; "
            f"{self.tasks_created} task(s) created, {self.tasks_reused} found; "
            f"{self.annotations} annotation(s)"
        )
        if self.skipped:
            text += f"; {self.skipped} skipped (file missing)"
        if self.duplicates:
            text += f"; {self.duplicates} duplicate(s)"
        if self.ground_truth_version is not None:
            split = ", ".join(f"{n} {name}" for name, n in self.splits.items())
            state = "found frozen" if self.version_reused else "frozen"
            text += f"; ground truth version {self.version} (id {self.ground_truth_version}) {state}: {split}"
        return text
