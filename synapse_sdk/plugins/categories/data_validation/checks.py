"""The checks ``ValidationAction`` runs: per item (a task or a ground-truth event), then per dataset.

An item check is ``check(item, context) -> Iterable[Problem]``; a dataset check, run once after
every item, is ``check(context) -> Iterable[Problem]``. Checks read the item's annotation as the
platform stored it (plain dicts, so one malformed box does not hide the others) and record what
the dataset checks need in ``context`` (classes counted, checksums per split).

The label configuration a project's classes are checked against::

    {"bounding_box": [{"name": "car", "attributes": [{"name": "color", "is_required": true}]},
                      {"name": "person"}],
     "tags": [{"name": "day"}, "night"]}

A tool's list holds class entries (a name, or ``{"name", "attributes"}``); an attribute with
``is_required: true`` (or ``required: true``) must be set, to a value other than null or "", on
every annotation of that class. A tool the configuration does not list is checked against all its
classes; tags are checked against ``tags`` (or ``classification``).
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import AnnotationError, ResourceNotFound, SynapseError, did_you_mean
from synapse_sdk.plugins.categories.data_validation.report import Problem, Severity

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

#: File extensions read as images (decoded to prove they are readable).
IMAGE_EXTENSIONS: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
#: Tools whose annotations are links between others, not objects.
LINKS: Final = frozenset({"relation", "group"})
#: Bytes read at a time when a file is re-hashed.
CHUNK: Final = 1 << 20


@dataclass
class Item:
    """One thing validated: a task or a ground-truth event, as the export reads it."""

    name: str
    record: dict[str, Any]

    @property
    def data(self) -> Any:
        """Its annotation (DM v2 as stored; None when it has none)."""
        return self.record.get("data")

    @property
    def files(self) -> dict[str, Any]:
        """Its primary file entry: data_file, path, checksum, width, height..."""
        return dict(self.record.get("files") or {})

    def problem(
        self, check: str, field: str, severity: Severity, message: str, fix: str | None = None
    ) -> Problem:
        """A problem of this item."""
        unit = self.record.get("data_unit")
        return Problem(
            check, self.name, field, severity, message, fix,
            data_unit=unit if isinstance(unit, int) else None, file=self.files.get("file_name_original"),
        )  # fmt: skip


@dataclass
class Context:
    """What the checks share: the platform, the params, the configured classes, and tallies."""

    client: BackendClient
    params: dict[str, Any]
    #: tool -> class name -> its configuration entry (empty: no configuration to check against).
    classes: dict[str, dict[str, dict[str, Any]]]
    #: objects per class name (annotations and tags), counted by ``check_classes``.
    counts: Counter[str] = field(default_factory=Counter)
    #: file checksum -> split -> names of the items in it (ground truth only).
    splits: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    @property
    def all_classes(self) -> set[str]:
        """Every configured class name, whatever its tool."""
        return {name for names in self.classes.values() for name in names}


def configured_classes(configuration: Mapping[str, Any] | None) -> dict[str, dict[str, dict[str, Any]]]:
    """``tool -> class -> entry`` of a project configuration (see the module docstring)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for tool, entries in (configuration or {}).items():
        if not isinstance(entries, list):
            continue
        key = "tags" if tool == "classification" else tool
        for entry in entries:
            named = {"name": entry} if isinstance(entry, str) else entry
            if isinstance(named, Mapping) and isinstance(named.get("name"), str):
                out.setdefault(key, {})[named["name"]] = dict(named)
    return out


def annotations_of(data: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(field path, tool, annotation)`` of every annotation and tag of a stored annotation."""
    images = data.get("images") if isinstance(data, Mapping) else None
    for i, image in enumerate(images if isinstance(images, list) else ()):
        if not isinstance(image, Mapping):
            continue
        for tool, found in image.items():
            for j, annotation in enumerate(found if isinstance(found, list) else ()):
                if isinstance(annotation, dict):
                    yield f"data.images[{i}].{tool}[{j}]", str(tool), annotation


def _box(annotation: Mapping[str, Any]) -> list[float] | None:
    data = annotation.get("data")
    if isinstance(data, list | tuple) and len(data) == 4 and all(isinstance(v, int | float) for v in data):
        return [float(v) for v in data]
    return None


# -- item checks -----------------------------------------------------------------------------------


def check_file(item: Item, context: Context) -> Iterator[Problem]:
    """The primary file is there, its stored bytes hash to its checksum, and an image decodes."""
    files = item.files
    if not files.get("data_file"):
        yield item.problem("file", "files", "error", "the data unit has no primary file",
                           "add the file to the data unit, or remove the item")  # fmt: skip
        return
    name = files.get("file_name_original") or files.get("path") or f"data file {files['data_file']}"
    is_image = "." in str(name) and "." + str(name).rsplit(".", 1)[-1].lower() in IMAGE_EXTENSIONS
    digest, kept = hashlib.sha256(), io.BytesIO()
    try:
        with context.client.open_data_file(int(files["data_file"])) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                if is_image:
                    kept.write(chunk)
    except ResourceNotFound:
        yield item.problem("file", "files", "error", f"{name}: the file is missing from its storage",
                           "upload the original file again")  # fmt: skip
        return
    except (SynapseError, OSError) as exc:
        yield item.problem("file", "files", "error", f"{name}: the file cannot be read: {exc}",
                           "check the storage, then upload the file again")  # fmt: skip
        return
    expected = files.get("checksum")
    if expected and digest.hexdigest() != expected:
        yield item.problem(
            "file", "files.checksum", "error",
            f"{name}: the stored bytes hash to {digest.hexdigest()[:12]}..., "
            f"the data file says {expected[:12]}...",
            "upload the original file again (the stored copy changed)",
        )  # fmt: skip
    if is_image:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(kept.getvalue())) as image:
                image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            yield item.problem("file", "files", "error", f"{name}: not a readable image ({exc})",
                               "replace the file with a readable image")  # fmt: skip


def check_annotation(item: Item, context: Context) -> Iterator[Problem]:
    """The annotation is valid DM v2 (a ground-truth event without one is a warning)."""
    from synapse_sdk.formats.dm import validate_annotation

    if item.data is None:
        if "split" in item.record:
            yield item.problem("annotation", "data", "warning", "the item has no annotation",
                               "annotate it, or leave it out of the version")  # fmt: skip
        return
    try:
        validate_annotation(item.data, where=item.name)
    except AnnotationError as exc:
        for line in exc.problems:
            detail = line.removeprefix(f"{item.name}: ")
            path, _, message = detail.partition(": ")
            yield item.problem("annotation", f"data.{path}" if message else "data", "error",
                               message or detail, "correct the annotation")  # fmt: skip


def check_classes(item: Item, context: Context) -> Iterator[Problem]:
    """Each class is in the project's configuration (and each object is counted for class balance)."""
    known = context.all_classes
    for path, tool, annotation in annotations_of(item.data):
        name = annotation.get("classification")
        if tool in LINKS or not isinstance(name, str):
            continue
        context.counts[name] += 1
        if not known:
            continue
        allowed = set(context.classes.get(tool) or known)
        if name not in allowed:
            listed = ", ".join(sorted(allowed))
            yield item.problem(
                "classes", f"{path}.classification", "error",
                f"class {name!r} is not in the project's configuration ({tool}: {listed})"
                + did_you_mean(name, allowed),
                f"relabel it, or add {name!r} to the project's configuration under {tool!r}",
            )  # fmt: skip


def check_boxes(item: Item, context: Context) -> Iterator[Problem]:
    """Boxes lie inside the image and are not (nearly) empty."""
    width, height = item.files.get("width"), item.files.get("height")
    least = float(context.params["min_box_area"])
    for path, tool, annotation in annotations_of(item.data):
        box = _box(annotation) if tool == "bounding_box" else None
        if box is None:
            continue
        x, y, w, h = box
        shown = _show(box)
        if w <= 0 or h <= 0 or w * h < least:
            yield item.problem("boxes", f"{path}.data", "error",
                               f"the box {shown} has an area of {max(w, 0) * max(h, 0):g} px² "
                               f"(below {least:g})",
                               f"delete the box {annotation.get('id')!r}")  # fmt: skip
            continue
        if width is None or height is None:
            continue
        if x < 0 or y < 0 or x + w > width or y + h > height:
            left, top = max(x, 0.0), max(y, 0.0)
            right, bottom = min(x + w, float(width)), min(y + h, float(height))
            fix = (
                f"clip it to {_show([left, top, right - left, bottom - top])}"
                if right > left and bottom > top
                else f"delete the box {annotation.get('id')!r}: it lies outside"
            )  # fmt: skip
            yield item.problem("boxes", f"{path}.data", "error",
                               f"the box {shown} is not inside the {width}x{height} image", fix)  # fmt: skip


def check_duplicates(item: Item, context: Context) -> Iterator[Problem]:
    """No two boxes of one image have the same class and an IoU above ``duplicate_iou``."""
    from synapse_sdk.plugins.categories.post_annotation.agreement import iou

    limit = float(context.params["duplicate_iou"])
    seen: dict[str, list[tuple[str, dict[str, Any], list[float]]]] = defaultdict(list)
    for path, tool, annotation in annotations_of(item.data):
        box = _box(annotation) if tool == "bounding_box" else None
        if box is None:
            continue
        image = path.split(".", 2)[1]
        for _, earlier, earlier_box in seen[image]:
            if (
                earlier.get("classification") == annotation.get("classification")
                and iou(box, earlier_box) > limit
            ):
                yield item.problem(
                    "duplicates", path, "warning",
                    f"box {annotation.get('id')!r} repeats box {earlier.get('id')!r} "
                    f"({annotation.get('classification')}, "
                    f"IoU {iou(box, earlier_box):.2f})",
                    f"delete box {annotation.get('id')!r}",
                )  # fmt: skip
                break
        seen[image].append((path, annotation, box))


def check_attributes(item: Item, context: Context) -> Iterator[Problem]:
    """Every attribute the configuration marks required is set on each annotation of its class."""
    for path, tool, annotation in annotations_of(item.data):
        entry = (context.classes.get(tool) or {}).get(str(annotation.get("classification")))
        if not entry:
            continue
        given = {
            a.get("name"): a.get("value") for a in annotation.get("attrs") or [] if isinstance(a, Mapping)
        }
        for attribute in entry.get("attributes") or []:
            if not isinstance(attribute, Mapping) or not (
                attribute.get("is_required") or attribute.get("required")
            ):
                continue
            name = attribute.get("name")
            if given.get(name) in (None, ""):
                yield item.problem(
                    "attributes", f"{path}.attrs", "error",
                    f"{annotation.get('classification')} {annotation.get('id')!r} lacks the required "
                    f"attribute {name!r}",
                    f"set {name!r} on it",
                )  # fmt: skip


def check_split(item: Item, context: Context) -> Iterator[Problem]:
    """Record the item's file under its split, for ``check_split_leakage``."""
    checksum, split = item.files.get("checksum"), item.record.get("split")
    if checksum and split:
        context.splits[checksum][split].append(item.name)
    return iter(())


# -- dataset checks --------------------------------------------------------------------------------


def check_split_leakage(context: Context) -> Iterator[Problem]:
    """No image (file checksum) is in two splits of a ground-truth version."""
    order = {"train": 0, "val": 1, "test": 2}
    for checksum, splits in context.splits.items():
        if len(splits) < 2:
            continue
        ranked = sorted(splits, key=lambda s: order.get(s, 3))
        first = ranked[0]
        for split in ranked[1:]:
            for name in splits[split]:
                yield Problem(
                    "split_leakage", name, "split", "error",
                    f"the same image (sha256 {checksum[:12]}...) is in {first} as {splits[first][0]} "
                    f"and in {split} here",
                    f"move it to {first}, or leave it out of the version",
                )  # fmt: skip


def check_class_balance(context: Context) -> Iterator[Problem]:
    """Each class has at least ``min_class_objects`` objects and ``min_class_fraction`` of them all."""
    counts = Counter(context.counts)
    for name in context.all_classes:
        counts.setdefault(name, 0)
    total = sum(counts.values())
    least, share = int(context.params["min_class_objects"]), float(context.params["min_class_fraction"])
    for name in sorted(counts):
        found = counts[name]
        if found < least or (total and found / total < share):
            percent = 100 * found / total if total else 0.0
            yield Problem(
                "class_balance", f"class {name}", f"classes.{name}", "warning",
                f"{name!r} has {found} object(s), {percent:.1f}% of {total} (wanted at least {least} "
                f"and {100 * share:g}%)",
                f"annotate more {name!r} objects, or merge or drop the class",
            )  # fmt: skip


def _show(box: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"
