"""YAML for config.yaml: ``yaml.SafeLoader`` minus what a config never needs and a hostile file uses.

Refused, each with its line and column: a key given twice (PyYAML keeps the last one silently),
nesting deeper than ``MAX_YAML_DEPTH`` (PyYAML recurses until ``RecursionError``), more than
``MAX_YAML_NODES`` values with aliases expanded (a 500-byte "billion laughs" document expands to
millions), an alias inside its own anchor (an endless structure), and a scalar Python cannot
hold (a 5,000-digit integer, the 13th month).
"""

from __future__ import annotations

from typing import Any, NoReturn

import yaml

#: Bounds of a config's YAML, far above any real plugin's config.
MAX_YAML_DEPTH = 32
MAX_YAML_NODES = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class RefusedYAML(yaml.MarkedYAMLError):
    """YAML that parses but that a config must not use; ``problem`` says what and how to fix it."""


def _refuse(problem: str, mark: Any) -> NoReturn:
    raise RefusedYAML(problem=problem, problem_mark=mark)


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys, deep nesting and aliases that multiply."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        #: Values composed so far, each alias counting as all the values it repeats.
        self._count = 0
        #: Each composed node -> how many values it stands for, its aliases expanded.
        self._sizes: dict[yaml.Node, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            target = self.anchors.get(event.anchor)
            if target is not None:
                if target not in self._sizes:
                    _refuse(f"alias *{event.anchor} is inside its own anchor, an endless structure; "
                            "repeat the values instead", event.start_mark)  # fmt: skip
                self._charge(self._sizes[target], event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            _refuse(f"nested more than {MAX_YAML_DEPTH} levels deep; a config needs a few", event.start_mark)
        self._charge(1, event.start_mark)  # counted on the way in: a huge document stops early
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is None:
            return None
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        self._sizes[node] = 1 + sum(self._sizes[child] for child in children)
        return node

    def _charge(self, values: int, mark: Any) -> None:
        self._count += values
        if self._count > MAX_YAML_NODES:
            why = (
                " once aliases (*name) are expanded; write the config without them"
                if self._aliases
                else "; a config holds metadata and actions, keep data in the plugin's files"
            )
            _refuse(f"more than {MAX_YAML_NODES:,} values{why}", mark)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # a scalar YAML accepts but Python cannot hold
            kind = node.tag.rpartition(":")[2]
            reason = _clip(str(exc).split(";")[0])
            _refuse(f"cannot read {_clip(repr(node.value), 40)} as {kind}: {reason}; quote it to keep it "
                    "as text", node.start_mark)  # fmt: skip

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # keys merged in with '<<: *defaults' may be overridden: that is merging
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # unhashable: SafeLoader refuses it with its own message
            if first is not key_node:
                _refuse(f"key {_clip(repr(key))} is given twice (first on line {first.start_mark.line + 1}); "
                        "keep one", key_node.start_mark)  # fmt: skip
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with ``ConfigLoader``; ``yaml.YAMLError`` (``RefusedYAML``) if refused."""
    return yaml.load(text, Loader=ConfigLoader)  # noqa: S506 - ConfigLoader is a SafeLoader


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
