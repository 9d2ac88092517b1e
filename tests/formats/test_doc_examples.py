"""Every JSON example of docs/annotation-format.md does what the page says it does.

A ```json block is a valid DM v2 annotation unless the line before it is a marker:
``<!-- example: refused -->`` (the ```text block after it is the exact message, for
``where="task 12"``), ``<!-- example: coco -->`` (a COCO file) followed later by
``<!-- example: coco-dm -->`` (what its first image reads as).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats import dump, read_coco, validate_annotation

DOC = Path(__file__).resolve().parents[2] / "docs" / "annotation-format.md"
BLOCK = re.compile(
    r"(?:<!-- example: (?P<marker>[\w-]+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.DOTALL
)


def blocks() -> list[tuple[str, str, str, int]]:
    """(marker, language, body, line) of every fenced block of the page."""
    text = DOC.read_text()
    return [
        (m["marker"] or "", m["lang"], m["body"], text.count("\n", 0, m.start("lang")) + 1)
        for m in BLOCK.finditer(text)
    ]


def of(marker: str) -> list[tuple[str, int]]:
    return [(body, line) for mark, lang, body, line in blocks() if lang == "json" and mark == marker]


def refused_pairs() -> list[tuple[str, str, int]]:
    found = blocks()
    pairs = []
    for index, (mark, _, body, line) in enumerate(found):
        if mark == "refused":
            _, lang, message, _ = found[index + 1]
            assert lang == "text", f"line {line}: a refused example is followed by its ```text message"
            pairs.append((body, message, line))
    return pairs


def test_the_page_has_the_examples_it_promises():
    assert {mark for mark, lang, _, _ in blocks() if lang == "json"} == {"", "refused", "coco", "coco-dm"}
    assert len(of("")) >= 6
    assert len(refused_pairs()) >= 8


@pytest.mark.parametrize(("body", "line"), of(""), ids=[f"line {line}" for _, line in of("")])
def test_each_valid_example_validates_and_dumps_back_to_itself(body, line):
    data = json.loads(body)
    annotation = validate_annotation(data, where=f"{DOC.name}:{line}")
    canonical = dump(annotation)
    assert validate_annotation(canonical, where="dumped") == annotation
    for image, dumped in zip(data.get("images", []), canonical["images"], strict=True):
        for tool, items in image.items():
            assert [{"attrs": [], **item} for item in items] == dumped[tool]


@pytest.mark.parametrize(
    ("body", "message"), [p[:2] for p in refused_pairs()], ids=[f"line {p[2]}" for p in refused_pairs()]
)
def test_each_refused_example_gives_the_message_shown(body, message):
    with pytest.raises(AnnotationError) as info:
        validate_annotation(json.loads(body), where="task 12")
    assert str(info.value) == message


def test_the_coco_example_reads_as_the_dm_example_shown(tmp_path):
    (coco, _), (expected, _) = of("coco")[0], of("coco-dm")[0]
    path = tmp_path / "instances.json"
    path.write_text(coco)
    image = next(iter(read_coco(path)))
    assert (image.file_name, image.width, image.height) == ("street.jpg", 640, 480)
    assert dump(image.annotation) == json.loads(expected)


def test_the_broken_coco_message_shown_is_the_one_read_coco_gives(tmp_path):
    document = json.loads(of("coco")[0][0])
    document["annotations"].append({"id": 12, "image_id": 1, "category_id": 99, "bbox": [0, 0, 1, 1]})
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(document))
    with pytest.raises(AnnotationError) as info:
        read_coco(path)
    shown = "instances.json: annotation 12: category_id 99 is not the id of a category of the file"
    assert shown in DOC.read_text()
    assert str(info.value) == f"{tmp_path}/{shown}"
