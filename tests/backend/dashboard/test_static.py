"""The vendored files: every module a page imports ships in the package and is preloaded by the shell."""

from __future__ import annotations

import re

from synapse_sdk.backend.server.dashboard.pages import MODULES, STATIC


def test_every_imported_module_exists_and_is_preloaded():
    imported = set()
    for script in STATIC.glob("*.js"):
        imported |= set(re.findall(r'from "\./([\w.-]+\.js)"', script.read_text()))
    assert imported == set(MODULES)
    assert all((STATIC / name).is_file() for name in MODULES)


def test_no_script_writes_html_or_loads_from_elsewhere():
    for script in STATIC.glob("*.js"):
        text = script.read_text().replace('"http://www.w3.org/2000/svg"', "")  # a namespace name, not a URL
        for banned in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "http://",
            "https://",
        ):
            assert banned not in text, f"{script.name}: {banned}"
