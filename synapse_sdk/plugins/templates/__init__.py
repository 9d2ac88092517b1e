"""Cookiecutter templates for new plugins: one per category on top of a shared ``_base`` layer.

``_base`` renders what every plugin has (config.yaml, README.md, pyproject.toml,
requirements.txt); each category folder adds one module and one test per action plus sample
data. ``render_plugin`` validates the answers, renders both layers into a staging folder and
moves the result into place, so a failed create leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synapse_sdk.errors import UsageError, did_you_mean
from synapse_sdk.plugins.categories import CATEGORIES, Category, Method
from synapse_sdk.plugins.config import SLUG

TEMPLATES_DIR = Path(__file__).resolve().parent
BASE_LAYER = "_base"
#: Written into every generated plugin: which template (and version) made it, with the answers.
RECORD_FILE = ".synapse-template.json"


@dataclass(frozen=True)
class ActionTemplate:
    """One action a category template can generate: its class, default method and example params."""

    name: str
    class_name: str
    #: The method written into config.yaml: the action's default in ``CATEGORIES``.
    method: Method
    #: Every method config.yaml may give it (``CATEGORIES``), shown in the generated file.
    methods: tuple[Method, ...]
    description: str
    example_params: dict[str, Any] | None
    #: More keys of the action's entry in config.yaml, such as ``retry`` (JSON values, written as YAML).
    config: dict[str, Any]


@dataclass(frozen=True)
class Template:
    """A category's cookiecutter template folder and what it generates."""

    category: Category
    version: str
    path: Path
    actions: dict[str, ActionTemplate]

    @property
    def name(self) -> str:
        """The template's name: its category."""
        return self.category.value


def list_templates() -> list[Template]:
    """Every category template, in the order of the spec's categories."""
    return [get_template(category) for category in Category]


def get_template(category: str | Category) -> Template:
    """The template of ``category``; ``UsageError`` with a did-you-mean for an unknown one.

    Its actions are the category's actions in ``CATEGORIES`` (order, methods); the
    template's ``cookiecutter.json`` adds each one's class name, description and example params.
    """
    value = validate_category(category)
    folder = TEMPLATES_DIR / value.value
    spec = json.loads((folder / "cookiecutter.json").read_text(encoding="utf-8"))
    declared = CATEGORIES[value].actions
    if set(spec["_actions"]) != set(declared):
        raise RuntimeError(
            f"{folder / 'cookiecutter.json'}: _actions {sorted(spec['_actions'])} do not match "
            f"the {value.value} actions {sorted(declared)} of synapse_sdk.plugins.categories.CATEGORIES"
        )
    actions = {
        name: ActionTemplate(
            name=name,
            class_name=spec["_actions"][name]["class"],
            method=action.default_method,
            methods=action.methods,
            description=spec["_actions"][name]["description"],
            example_params=spec["_actions"][name].get("example_params"),
            config=spec["_actions"][name].get("config", {}),
        )
        for name, action in declared.items()
    }
    return Template(category=value, version=spec["_template_version"], path=folder, actions=actions)


def plugin_folder_name(code: str) -> str:
    """The folder a plugin is generated in: ``synapse-<code>-plugin``."""
    return f"synapse-{code}-plugin"


def validate_code(code: str) -> str:
    """Check a plugin code is a slug like ``my-plugin``; ``UsageError`` saying how to fix it."""
    code = (code or "").strip()
    if not SLUG.match(code):
        raise UsageError(
            f"--code: {code!r} is not a plugin code; use a slug of lowercase letters and digits "
            "joined by single '-' or '_', like 'my-plugin'"
        )
    return code


def validate_category(category: str | Category) -> Category:
    """Parse a category name; ``UsageError`` with a did-you-mean and the list of categories."""
    value = str(getattr(category, "value", category) or "").strip()
    try:
        return Category(value)
    except ValueError:
        names = [c.value for c in Category]
        raise UsageError(
            f"--category: unknown category {value!r}{did_you_mean(value, names)}; "
            f"choose one of {', '.join(names)}"
        ) from None


def validate_actions(category: str | Category, actions: str | list[str] | None) -> list[str]:
    """Parse ``a,b`` into the category's actions (all of them if empty), in the spec's order."""
    value = validate_category(category)
    known = list(CATEGORIES[value].actions)
    names = actions.split(",") if isinstance(actions, str) else list(actions or [])
    chosen = [n.strip() for n in names if n.strip()]
    for name in chosen:
        if name not in known:
            raise UsageError(
                f"--actions: {value.value} plugins have no action {name!r}{did_you_mean(name, known)}; "
                f"choose from {', '.join(known)}"
            )
    return [a for a in known if a in chosen] if chosen else list(known)


def check_target(output_dir: str | Path, code: str) -> Path:
    """The folder the plugin will be created in; ``UsageError`` if it exists already."""
    target = Path(output_dir).expanduser().resolve() / plugin_folder_name(code)
    if target.exists():
        raise UsageError(
            f"{target}: exists already; choose another --code or --output DIR, or remove the folder"
        )
    return target


def render_plugin(
    code: str,
    category: str | Category,
    *,
    name: str | None = None,
    description: str = "",
    actions: str | list[str] | None = None,
    output_dir: str | Path = ".",
) -> Path:
    """Generate ``synapse-<code>-plugin/`` in ``output_dir`` and return its path.

    Cookiecutter changes the working directory while it renders, so call this from one thread.
    """
    code = validate_code(code)
    template = get_template(category)
    chosen = validate_actions(template.category, actions)
    target = check_target(output_dir, code)
    context = _context(template, code, name or default_name(code), description, chosen)
    made = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".synapse-create-", dir=target.parent))
    try:
        project = _render(template, context, staging)
        for unused in set(template.actions) - set(chosen):
            for file in (f"plugin/{unused}.py", f"plugin/test_{unused}.py"):
                (project / file).unlink(missing_ok=True)
        (project / RECORD_FILE).write_text(json.dumps(_record(template, context), indent=2) + "\n")
        check_target(output_dir, code)
        os.rename(project, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # innermost first: only the folders this call created
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return target


def default_name(code: str) -> str:
    """A display name from a code: ``my-plugin`` -> ``My Plugin``."""
    return " ".join(part.capitalize() for part in code.split("-"))


def _yaml_values(config: dict[str, Any]) -> dict[str, str]:
    """Each value of ``config`` as one line of YAML (JSON flow style), for config.yaml."""
    return {key: json.dumps(value, separators=(", ", ": ")) for key, value in config.items()}


def _context(template: Template, code: str, name: str, description: str, chosen: list[str]) -> dict[str, Any]:
    from synapse_sdk._version import __version__

    actions = [
        {
            "name": a,
            "class": template.actions[a].class_name,
            "method": template.actions[a].method,
            "methods": ", ".join(template.actions[a].methods),
            "description": template.actions[a].description,
            "run_params": json.dumps(template.actions[a].example_params, separators=(", ", ": "))
            if template.actions[a].example_params
            else "",
            "config": _yaml_values(template.actions[a].config),
        }
        for a in chosen
    ]
    return {
        "project_slug": plugin_folder_name(code),
        "code": code,
        "name": name,
        "description": description or f"A Synapse {template.category.value} plugin.",
        "category": template.category.value,
        "actions": ",".join(chosen),
        "_actions": actions,
        "_template": template.name,
        "_template_version": template.version,
        "_sdk_version": __version__,
        "_copy_without_render": ["sample_data/*", "sample_data/**/*"],
    }


def _render(template: Template, context: dict[str, Any], staging: Path) -> Path:
    from cookiecutter.generate import generate_files

    for layer in (TEMPLATES_DIR / BASE_LAYER, template.path):
        generate_files(
            repo_dir=str(layer),
            context={"cookiecutter": context},
            output_dir=str(staging),
            overwrite_if_exists=True,
            accept_hooks=False,
        )
    return staging / context["project_slug"]


def _record(template: Template, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "template": template.name,
        "template_version": template.version,
        "sdk_version": context["_sdk_version"],
        "answers": {
            "code": context["code"],
            "name": context["name"],
            "description": context["description"],
            "category": context["category"],
            "actions": context["actions"].split(","),
        },
    }
