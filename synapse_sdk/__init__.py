"""Synapse SDK: write, package, publish, run and watch ML and data-annotation plugins.

Importing the package costs nothing: submodules load when they are used.
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from synapse_sdk._version import __version__

        return __version__
    raise AttributeError(f"module 'synapse_sdk' has no attribute {name!r}")
