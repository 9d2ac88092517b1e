"""Which files make which data units: folders per specification, junk skipped, groups by stem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synapse_sdk.errors import UsageError
from synapse_sdk.plugins.categories.upload.discovery import (
    JUNK_NAMES,
    AssetPath,
    FileGroup,
    FileSpec,
    discover,
    group_by_stem,
    is_junk,
    single_path_assets,
)

IMAGE = FileSpec("image", is_required=True, is_primary=True, file_type="image", extensions=(".jpg", ".png"))
LABEL = FileSpec("label", is_required=False, is_primary=False, file_type="json", extensions=(".json",))
SPECS = [IMAGE, LABEL]


def make(root: Path, *paths: str) -> Path:
    """Create empty files (and their folders) under ``root``; return ``root``."""
    for path in paths:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"x")
    return root


def names(found: list[Path], root: Path) -> list[str]:
    """Found files as posix paths relative to ``root``, for readable assertions."""
    return [path.relative_to(root).as_posix() for path in found]


def test_specifications_come_from_a_data_collection_record_with_normalised_extensions():
    collection = {
        "name": "photos",
        "file_specifications": [
            {"name": "image", "file_type": "image", "is_required": True, "is_primary": True,
             "extensions": ["JPG", ".Png", " jpeg "]},
            {"name": "label", "file_type": "json"},
        ],
    }  # fmt: skip

    image, label = FileSpec.from_collection(collection)

    assert image == FileSpec("image", True, True, "image", (".jpg", ".png", ".jpeg"))
    assert label == FileSpec("label", False, False, "json", ())


def test_a_specification_without_name_is_a_usage_error_naming_its_position():
    with pytest.raises(UsageError, match=r"file_specifications\[1\]: no name"):
        FileSpec.from_collection({"file_specifications": [{"name": "image"}, {"file_type": "json"}]})


def test_a_collection_without_specifications_has_none():
    assert FileSpec.from_collection({"name": "empty"}) == []


def test_recursive_assets_find_files_in_sub_folders_flat_ones_only_at_the_top(tmp_path: Path):
    make(tmp_path / "image", "a.jpg", "day1/b.jpg", "day1/deep/c.jpg")
    make(tmp_path / "label", "a.json", "day1/b.json")
    assets = {
        "image": AssetPath(tmp_path / "image", is_recursive=True),
        "label": AssetPath(tmp_path / "label", is_recursive=False),
    }

    found, problems = discover(assets)

    assert names(found["image"], tmp_path / "image") == ["a.jpg", "day1/b.jpg", "day1/deep/c.jpg"]
    assert names(found["label"], tmp_path / "label") == ["a.json"]
    assert problems == []


def test_hidden_files_and_system_junk_are_skipped_and_never_descended_into(tmp_path: Path):
    root = make(
        tmp_path / "image",
        "a.jpg",
        ".hidden.jpg",
        ".cache/b.jpg",
        ".DS_Store",
        "._a.jpg",  # macOS AppleDouble
        "Thumbs.db",
        "thumbs.db",  # Windows does not care about case
        "desktop.ini",
        "~$sheet.xlsx",  # an Office lock file
        "@eaDir/a.jpg/SYNOPHOTO_THUMB_M.jpg",  # Synology thumbnails
        "#recycle/old.jpg",
        "#snapshot/a.jpg",
        "__MACOSX/a.jpg",
        "day1/.DS_Store",
        "day1/c.jpg",
    )

    found, problems = discover({"image": AssetPath(root, is_recursive=True)})

    assert names(found["image"], root) == ["a.jpg", "day1/c.jpg"]
    assert problems == []


def test_junk_names_cover_macos_windows_and_nas_boxes():
    assert {".DS_Store", "Thumbs.db", "desktop.ini", "@eaDir", "#recycle", "#snapshot"} <= JUNK_NAMES
    assert {"__MACOSX", ".Spotlight-V100", ".Trashes", ".fseventsd"} <= JUNK_NAMES
    assert is_junk("._photo.jpg")
    assert is_junk("~$metadata.xlsx")
    assert is_junk("DESKTOP.INI")
    assert not is_junk("photo.jpg")


def test_a_symlink_leaving_the_folder_is_skipped_with_a_problem(tmp_path: Path):
    secret = make(tmp_path / "elsewhere", "passwd.jpg") / "passwd.jpg"
    root = make(tmp_path / "image", "a.jpg", "b.jpg")
    (root / "escape.jpg").symlink_to(secret)
    (root / "outside").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    found, problems = discover({"image": AssetPath(root, is_recursive=True)})

    assert names(found["image"], root) == ["a.jpg", "b.jpg"]
    assert sorted(problem.path.name for problem in problems) == ["escape.jpg", "outside"]
    assert all("outside" in problem.message and problem.spec == "image" for problem in problems)
    assert all(str(tmp_path / "elsewhere") in problem.message for problem in problems)


def test_a_symlink_inside_the_folder_counts_and_a_link_loop_adds_nothing(tmp_path: Path):
    root = make(tmp_path / "image", "real/a.jpg")
    (root / "alias.jpg").symlink_to(root / "real" / "a.jpg")
    (root / "real" / "loop").symlink_to(root, target_is_directory=True)
    (root / "broken.jpg").symlink_to(root / "gone.jpg")

    found, problems = discover({"image": AssetPath(root, is_recursive=True)})

    assert names(found["image"], root) == ["alias.jpg", "real/a.jpg"]
    assert [problem.message for problem in problems] == [
        f"{root / 'broken.jpg'}: is a broken symbolic link; fix or remove it"
    ]


def test_a_missing_asset_folder_is_a_problem_not_a_crash(tmp_path: Path):
    found, problems = discover({"image": AssetPath(tmp_path / "nowhere", is_recursive=True)})

    assert found == {"image": []}
    assert len(problems) == 1
    assert problems[0].message.startswith(f"{tmp_path / 'nowhere'}: the 'image' folder does not exist")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_a_problem_and_the_rest_is_found(tmp_path: Path):
    root = make(tmp_path / "image", "a.jpg", "locked/b.jpg")
    (root / "locked").chmod(0)
    try:
        found, problems = discover({"image": AssetPath(root, is_recursive=True)})
    finally:
        (root / "locked").chmod(0o755)

    assert names(found["image"], root) == ["a.jpg"]
    assert "cannot read the folder" in problems[0].message


def test_files_group_by_relative_stem_across_specifications_in_nested_folders(tmp_path: Path):
    make(tmp_path / "image", "a.jpg", "day1/b.png", "day1/c.jpg")
    make(tmp_path / "label", "a.json", "day1/b.json")
    assets = {name: AssetPath(tmp_path / name, is_recursive=True) for name in ("image", "label")}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert problems == []
    assert groups == [
        FileGroup("a", {"image": tmp_path / "image/a.jpg", "label": tmp_path / "label/a.json"}),
        FileGroup(
            "day1/b", {"image": tmp_path / "image/day1/b.png", "label": tmp_path / "label/day1/b.json"}
        ),
        FileGroup("day1/c", {"image": tmp_path / "image/day1/c.jpg"}),  # the label is optional
    ]
    assert groups[0].as_dict() == {
        "files": {"image": tmp_path / "image/a.jpg", "label": tmp_path / "label/a.json"},
        "meta": {},
    }


def test_two_files_of_one_specification_with_one_stem_drop_their_group(tmp_path: Path):
    make(tmp_path / "image", "a.jpg", "a.png", "b.jpg")
    assets = {"image": AssetPath(tmp_path / "image", is_recursive=False)}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert [group.key for group in groups] == ["b"]
    [problem] = problems
    assert problem.spec == "image"
    assert str(tmp_path / "image/a.jpg") in problem.message
    assert str(tmp_path / "image/a.png") in problem.message
    assert "share the stem 'a'" in problem.message


def test_a_group_without_its_required_file_is_a_problem_naming_the_expected_path(tmp_path: Path):
    make(tmp_path / "image", "a.jpg")
    make(tmp_path / "label", "a.json", "orphan.json")
    assets = {name: AssetPath(tmp_path / name, is_recursive=False) for name in ("image", "label")}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert [group.key for group in groups] == ["a"]
    [problem] = problems
    assert problem.spec == "image"
    assert problem.path == tmp_path / "image/orphan.jpg"
    assert problem.message.startswith(f"{tmp_path / 'image/orphan.jpg'} (or .png): missing")
    assert "data unit 'orphan' requires a 'image' file" in problem.message
    assert str(tmp_path / "label/orphan.json") in problem.message


def test_a_file_with_a_wrong_extension_is_dropped_and_fails_its_group_if_required(tmp_path: Path):
    make(tmp_path / "image", "a.jpg", "b.gif", "c.JPG")
    make(tmp_path / "label", "a.txt", "b.json", "c.json")
    assets = {name: AssetPath(tmp_path / name, is_recursive=False) for name in ("image", "label")}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert groups == [
        FileGroup("a", {"image": tmp_path / "image/a.jpg"}),  # a.txt dropped: the label is optional
        FileGroup("c", {"image": tmp_path / "image/c.JPG", "label": tmp_path / "label/c.json"}),
    ]
    assert [problem.message for problem in problems] == [
        f"{tmp_path / 'label/a.txt'}: '.txt' is not an allowed extension for 'label' files (allowed: .json); "
        "convert or rename the file, or add the extension to the collection's specification",
        f"{tmp_path / 'image/b.gif'}: '.gif' is not an allowed extension for 'image' files "
        "(allowed: .jpg, .png); convert or rename the file, or add the extension to the collection's "
        "specification; data unit 'b' is skipped",
    ]


def test_two_specifications_can_share_one_folder_told_apart_by_extension(tmp_path: Path):
    make(tmp_path / "mixed", "a.jpg", "a.json", "b.png", "c.txt")
    assets = {name: AssetPath(tmp_path / "mixed", is_recursive=False) for name in ("image", "label")}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert groups == [
        FileGroup("a", {"image": tmp_path / "mixed/a.jpg", "label": tmp_path / "mixed/a.json"}),
        FileGroup("b", {"image": tmp_path / "mixed/b.png"}),
    ]
    assert [(problem.spec, problem.path) for problem in problems] == [
        ("image", tmp_path / "mixed/c.txt"),  # neither takes it
        ("label", tmp_path / "mixed/c.txt"),
    ]


def test_a_specification_without_extensions_takes_any_file(tmp_path: Path):
    anything = FileSpec("scan", is_required=True, is_primary=True, file_type="other", extensions=())
    make(tmp_path / "scan", "a.tiff", "b", "c.weird")
    assets = {"scan": AssetPath(tmp_path / "scan", is_recursive=False)}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, [anything])

    assert [group.key for group in groups] == ["a", "b", "c"]
    assert problems == []


def test_a_required_specification_without_a_folder_fails_once_not_per_group(tmp_path: Path):
    make(tmp_path / "label", "a.json", "b.json")
    assets = {"label": AssetPath(tmp_path / "label", is_recursive=False)}
    found, _ = discover(assets)

    groups, problems = group_by_stem(found, assets, SPECS)

    assert groups == []
    assert [(problem.spec, problem.path) for problem in problems] == [("image", None)]


def test_single_path_mode_takes_one_sub_folder_per_specification(tmp_path: Path):
    make(tmp_path, "image/a.jpg", "label/a.json", "notes.txt")

    assets, problems = single_path_assets(tmp_path, True, SPECS)

    assert assets == {
        "image": AssetPath(tmp_path / "image", is_recursive=True),
        "label": AssetPath(tmp_path / "label", is_recursive=True),
    }
    assert problems == []


def test_single_path_mode_names_the_missing_folder_of_a_required_specification(tmp_path: Path):
    make(tmp_path, "images/a.jpg")  # one letter too many

    assets, problems = single_path_assets(tmp_path, False, SPECS)

    assert assets == {}  # and the optional label folder is just absent
    assert [problem.message for problem in problems] == [
        f"{tmp_path / 'image'}/ is missing (did you mean 'images'?); "
        "create it and put the required 'image' files in it"
    ]


def test_single_path_mode_refuses_a_root_that_is_not_a_folder(tmp_path: Path):
    with pytest.raises(UsageError, match=r"nowhere does not exist; give a folder with one sub-folder per"):
        single_path_assets(tmp_path / "nowhere", True, SPECS)
    make(tmp_path, "file.txt")
    with pytest.raises(UsageError, match=r"file.txt is not a folder"):
        single_path_assets(tmp_path / "file.txt", True, SPECS)
