"""``ValidationParams`` and ``ValidationAction``: check a project or a ground-truth version, gate on it.

Params::

    {"project": 3}                                   # or {"ground_truth_dataset_version": 7}
    {"project": 3, "fail_on": "warning", "min_class_objects": 20, "skip_checks": ["file"]}

Every item (the project's tasks, or the version's events) goes through ``item_checks``, then the
dataset through ``dataset_checks`` (``checks.py`` says what each finds). Every problem goes to
``validation_report.json`` in the run's folder; the log gets the counts and the first problems.
With ``fail_on: error`` (the default) the run fails (``ExecutionError``, exit 1) when an error is
found, naming the count and the report, so a pipeline can stop on bad data; ``warning`` fails on
warnings too, ``never`` only reports. See docs/validation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, model_validator

from synapse_sdk.errors import ConfigError, ExecutionError, did_you_mean
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.data_validation import checks
from synapse_sdk.plugins.categories.data_validation.checks import Context, Item
from synapse_sdk.plugins.categories.data_validation.report import Problem, Report

#: How to name a target, in messages.
NO_TARGET = "give one of project or ground_truth_dataset_version, like {'project': 3}"


class ValidationParams(BaseModel):
    """What to check (``project`` or ``ground_truth_dataset_version``), the limits, and when to fail."""

    project: int | None = Field(None, description="check this project's tasks")
    ground_truth_dataset_version: int | None = Field(None, description="check this ground-truth version")
    fail_on: Literal["error", "warning", "never"] = Field(
        "error", description="fail the run on errors (the default), on warnings too, or never"
    )
    min_box_area: float = Field(1.0, ge=0, description="boxes smaller than this (px²) are errors")
    duplicate_iou: float = Field(
        0.95, gt=0, le=1, description="boxes of one class above this IoU are duplicates"
    )
    min_class_objects: int = Field(5, ge=0, description="warn when a class has fewer objects than this")
    min_class_fraction: float = Field(
        0.01, ge=0, le=1, description="warn when a class has less than this share"
    )
    skip_checks: list[str] = Field(default_factory=list, description="names of checks not to run")

    @model_validator(mode="after")
    def _one_target(self) -> ValidationParams:
        # Neither is refused by start() (a subclass with its own start() may need no target).
        if self.project is not None and self.ground_truth_dataset_version is not None:
            raise ValueError(f"give one of project or ground_truth_dataset_version, not both; {NO_TARGET}")
        return self


class ValidationAction(Action):
    """Check every item of a project or ground-truth version; report each problem; fail on errors.

    The checks are methods named in ``item_checks`` (``check_<name>(item, context)``, per item) and
    ``dataset_checks`` (``check_<name>(context)``, once after the items), each yielding
    ``Problem`` records. A plugin adds one by extending a tuple and writing its method::

        class Validation(ValidationAction):
            item_checks = (*ValidationAction.item_checks, "file_name")

            def check_file_name(self, item, context):
                if " " in (item.files.get("file_name_original") or ""):
                    yield item.problem("file_name", "files", "warning", "the file name has spaces",
                                       "rename the file")
    """

    name = "validation"
    category = Category.DATA_VALIDATION
    method = "task"
    is_category_base = True
    params_model = ValidationParams
    progress_categories = {"validation": "Checking items"}
    #: Checks run on each item, in order.
    item_checks: ClassVar[tuple[str, ...]] = (
        "file", "annotation", "classes", "boxes", "duplicates", "attributes", "split",
    )  # fmt: skip
    #: Checks run once, after every item.
    dataset_checks: ClassVar[tuple[str, ...]] = ("split_leakage", "class_balance")

    def start(self) -> Any:
        """Run every check over every item, write the report, and pass or fail by ``fail_on``."""
        from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems

        params, run, client = self.params, self.run, self.client
        if params["project"] is None and params["ground_truth_dataset_version"] is None:
            from synapse_sdk.errors import ParamsError

            raise ParamsError(f"invalid params for action {self.name!r}: params: {NO_TARGET}")
        item_checks, dataset_checks = self._checks()
        if params["project"] is not None:
            items, target, kind = (
                PlatformItems(client, "task", {"project": params["project"]}),
                f"project {params['project']}",
                "task",
            )
        else:
            version = params["ground_truth_dataset_version"]
            items = PlatformItems(client, "ground_truth", {"ground_truth_dataset_version": version})
            target, kind = f"ground-truth version {version}", "event"
        items.check()
        project = items.project
        context = Context(client, params, checks.configured_classes((project or {}).get("configuration")))
        report = Report(target)
        if "classes" in item_checks and not context.classes:
            report.add(Problem("classes", target, "configuration", "warning",
                               "no label configuration: classes and attributes are not checked",
                               "give the project a configuration listing its classes"))  # fmt: skip
        total = len(items)
        run.log_message(f"Validating {total} {kind}(s) of {target}")
        for number, record in enumerate(items, start=1):
            item = Item(f"{kind} {record['id']}", record)
            for check in item_checks.values():
                self._collect(report, lambda c=check, i=item: c(i, context), item.name)  # type: ignore[misc]
            report.items = number
            run.set_progress(number, max(total, 1), category="validation")
        for dataset_check in dataset_checks.values():
            self._collect(report, lambda c=dataset_check: c(context), target)  # type: ignore[misc]
        return self._outcome(report)

    # -- the checks (each delegates to ``checks.py``; override one to change it) ----------------------

    def check_file(self, item: Item, context: Context) -> Iterable[Problem]:
        """Missing or unreadable files, and stored bytes that no longer match their checksum."""
        return checks.check_file(item, context)

    def check_annotation(self, item: Item, context: Context) -> Iterable[Problem]:
        """Annotations that are not valid DM v2."""
        return checks.check_annotation(item, context)

    def check_classes(self, item: Item, context: Context) -> Iterable[Problem]:
        """Classes that are not in the project's configuration."""
        return checks.check_classes(item, context)

    def check_boxes(self, item: Item, context: Context) -> Iterable[Problem]:
        """Boxes outside their image, or of (nearly) zero area."""
        return checks.check_boxes(item, context)

    def check_duplicates(self, item: Item, context: Context) -> Iterable[Problem]:
        """Boxes of one class that repeat another box of the image."""
        return checks.check_duplicates(item, context)

    def check_attributes(self, item: Item, context: Context) -> Iterable[Problem]:
        """Required attributes left unset."""
        return checks.check_attributes(item, context)

    def check_split(self, item: Item, context: Context) -> Iterable[Problem]:
        """Notes the item's image under its split (for ``split_leakage``)."""
        return checks.check_split(item, context)

    def check_split_leakage(self, context: Context) -> Iterable[Problem]:
        """The same image in two splits of a ground-truth version."""
        return checks.check_split_leakage(context)

    def check_class_balance(self, context: Context) -> Iterable[Problem]:
        """Classes with too few objects."""
        return checks.check_class_balance(context)

    # -- machinery ----------------------------------------------------------------------------------

    def _checks(
        self,
    ) -> tuple[dict[str, Callable[..., Iterable[Problem]]], dict[str, Callable[..., Iterable[Problem]]]]:
        """The check methods to run, by name; ``ConfigError`` for a name with no method, ``ParamsError``-like
        one line for an unknown ``skip_checks`` name."""
        names = (*self.item_checks, *self.dataset_checks)
        missing = [n for n in names if not callable(getattr(self, f"check_{n}", None))]
        if missing:
            raise ConfigError(
                f"{type(self).__qualname__}: the check {missing[0]!r} has no method; "
                f"define check_{missing[0]}()"
            )
        unknown = [n for n in self.params["skip_checks"] if n not in names]
        if unknown:
            from synapse_sdk.errors import ParamsError

            raise ParamsError(
                f"params.skip_checks: unknown check {unknown[0]!r}{did_you_mean(unknown[0], names)}; "
                f"checks: {', '.join(names)}"
            )
        skipped = set(self.params["skip_checks"])
        pick = lambda group: {n: getattr(self, f"check_{n}") for n in group if n not in skipped}  # noqa: E731 - used twice here
        return pick(self.item_checks), pick(self.dataset_checks)

    def _collect(self, report: Report, call: Callable[[], Iterable[Problem]], where: str) -> None:
        """Add a check's problems; a check that raises is itself an error of the item (the others go on)."""
        try:
            for problem in call():
                report.add(problem)
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the other problems
            report.add(Problem("check", where, "-", "error", f"a check failed: {type(exc).__name__}: {exc}",
                               "fix the check (this is a bug in it, not in the data)"))  # fmt: skip

    def _outcome(self, report: Report) -> dict[str, Any]:
        run, fail_on = self.run, self.params["fail_on"]
        path = report.write(run.path)
        summary = report.summary()
        errors, warnings = summary["errors"], summary["warnings"]
        run.set_metrics({"items": report.items, "errors": errors, "warnings": warnings}, "validation")
        headline = (
            f"Validation of {report.target}: {report.items} item(s) checked, {errors} error(s), "
            f"{warnings} warning(s); report: {path}"
        )
        run.log_message(headline, "ERROR" if errors else "WARNING" if warnings else "INFO")
        for line in report.lines():
            run.log_message(line, "WARNING")
        failed = (fail_on == "error" and errors) or (fail_on == "warning" and (errors or warnings))
        if failed:
            counted = f"{errors} error(s)" + (f" and {warnings} warning(s)" if fail_on == "warning" else "")
            first = next(p for p in report.problems if p.severity == "error" or fail_on == "warning")
            raise ExecutionError(
                f"validation of {report.target} found {counted} (first: {first.item}: {first.field}: "
                f"{first.message}); see {path}"
            )
        return {**summary, "passed": not errors, "report": str(path)}
