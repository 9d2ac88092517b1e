"""Excel and CSV metadata keyed by file name: types, keys, limits and broken files."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from synapse_sdk.errors import UsageError
from synapse_sdk.plugins.categories.upload.metadata import (
    Metadata,
    MetadataError,
    MetadataLimits,
    read_metadata,
)


def xlsx(path: Path, *rows: Sequence[Any], sheets: Sequence[str] = ()) -> Path:
    """Write a real workbook: ``rows`` on the first sheet, then empty sheets named ``sheets``."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    for name in sheets:
        workbook.create_sheet(name).append(["not", "read"])
    workbook.save(path)
    return path


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_an_xlsx_sheet_becomes_rows_keyed_by_file_name_with_typed_values(tmp_path: Path):
    path = xlsx(
        tmp_path / "meta.xlsx",
        ["file_name", "camera", "taken_at", "taken_on", "count", "ratio", "checked"],
        ["a.jpg", "front", dt.datetime(2024, 5, 1, 10, 30), dt.date(2024, 5, 1), 3, 0.5, True],
        ["b.jpg", "  back  ", None, None, None, None, False],
    )

    metadata = read_metadata(path)

    assert metadata.rows == {
        "a.jpg": {
            "camera": "front",
            "taken_at": "2024-05-01T10:30:00",
            "taken_on": "2024-05-01",
            "count": 3,
            "ratio": 0.5,
            "checked": True,
        },
        "b.jpg": {"camera": "back", "checked": False},  # empty cells are left out
    }


def test_times_read_as_iso_text(tmp_path: Path):
    path = xlsx(tmp_path / "meta.xlsx", ["name", "start"], ["a.jpg", dt.time(7, 15)])

    assert read_metadata(path).rows == {"a.jpg": {"start": "07:15:00"}}


def test_only_the_first_sheet_is_read_and_empty_rows_are_skipped(tmp_path: Path):
    path = xlsx(
        tmp_path / "meta.xlsx",
        [],
        ["name", "camera"],
        [],
        ["a.jpg", "front"],
        [None, None],
        ["b.jpg", "back"],
        sheets=["other"],
    )

    assert read_metadata(path).rows == {"a.jpg": {"camera": "front"}, "b.jpg": {"camera": "back"}}


def test_the_file_name_column_is_found_by_its_header_else_it_is_the_first(tmp_path: Path):
    named = xlsx(tmp_path / "named.xlsx", ["camera", "File Name"], ["front", "a.jpg"])
    unnamed = xlsx(tmp_path / "unnamed.xlsx", ["image", "camera"], ["a.jpg", "front"])

    assert read_metadata(named).rows == {"a.jpg": {"camera": "front"}}
    assert read_metadata(unnamed).rows == {"a.jpg": {"camera": "front"}}


def test_a_numeric_file_name_cell_is_a_key_like_its_text(tmp_path: Path):
    path = xlsx(tmp_path / "meta.xlsx", ["name", "camera"], [1001, "front"], [1002.0, "back"])

    assert list(read_metadata(path).rows) == ["1001", "1002"]


def test_a_comma_separated_csv_reads_numbers_as_numbers_and_keeps_other_text(tmp_path: Path):
    path = csv_file(
        tmp_path / "meta.csv", "file_name,count,ratio,code,note\na.jpg,3,0.5,007,1e5\nb.jpg,,,,\n"
    )

    assert read_metadata(path).rows == {
        "a.jpg": {"count": 3, "ratio": 0.5, "code": "007", "note": "1e5"},
        "b.jpg": {},
    }


def test_a_semicolon_separated_csv_with_a_byte_order_mark_as_excel_saves_it(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "file_name;camera;place\r\na.jpg;front;Seoul, KR\r\n", "utf-8-sig")

    assert read_metadata(path).rows == {"a.jpg": {"camera": "front", "place": "Seoul, KR"}}


def test_a_tab_separated_csv(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "name\tcamera\na.jpg\tfront\n")

    assert read_metadata(path).rows == {"a.jpg": {"camera": "front"}}


def test_a_single_column_csv(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "file_name\na.jpg\nb.jpg\n")

    assert read_metadata(path).rows == {"a.jpg": {}, "b.jpg": {}}


def test_files_find_their_row_by_name_then_by_stem():
    metadata = Metadata({"a.jpg": {"by": "name"}, "b": {"by": "stem"}})

    assert metadata.for_files({"image": Path("/data/image/a.jpg")}) == {"by": "name"}
    assert metadata.for_files({"image": Path("/data/image/b.png")}) == {"by": "stem"}
    assert metadata.for_files({"image": Path("/data/image/c.jpg")}) == {}


def test_every_file_of_a_unit_is_tried_in_order():
    metadata = Metadata({"a.json": {"from": "label"}})

    files = {"image": Path("/data/image/a.jpg"), "label": Path("/data/label/a.json")}

    assert metadata.for_files(files) == {"from": "label"}


def test_with_the_units_key_a_row_naming_the_relative_path_comes_first():
    metadata = Metadata({"day1/a.jpg": {"day": 1}, "day2\\a": {"day": 2}, "a.jpg": {"day": None}})

    assert metadata.for_files({"image": Path("/data/image/day1/a.jpg")}, key="day1/a") == {"day": 1}
    assert metadata.for_files({"image": Path("/data/image/day2/a.jpg")}, key="day2/a") == {"day": 2}
    assert metadata.for_files({"image": Path("/data/image/day3/a.jpg")}, key="day3/a") == {"day": None}


def test_rows_no_file_matched_are_listed_as_unused():
    metadata = Metadata({"a.jpg": {}, "typo.jpg": {}, "c.jpg": {}})
    metadata.for_files({"image": Path("a.jpg")})
    metadata.for_files({"image": Path("c.png")})  # matches nothing: 'c' is not a key

    assert metadata.unused == ["typo.jpg", "c.jpg"]


def test_a_returned_row_is_a_copy():
    metadata = Metadata({"a.jpg": {"camera": "front"}})
    metadata.for_files({"image": Path("a.jpg")})["camera"] = "changed"

    assert metadata.rows["a.jpg"] == {"camera": "front"}


def test_a_file_name_in_two_rows_is_an_error_naming_both(tmp_path: Path):
    path = xlsx(
        tmp_path / "meta.xlsx", ["name", "camera"], ["a.jpg", "front"], ["b.jpg", "x"], ["a.jpg", "back"]
    )

    with pytest.raises(MetadataError) as caught:
        read_metadata(path)

    assert str(caught.value) == f"{path}: A4: 'a.jpg' is also in A2; keep one row per file"
    assert caught.value.cell == "A4"
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, UsageError)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["name", None, "camera"], "B1: empty header; name the column or delete it"),
        (["name", "camera", "camera"], "C1: header 'camera' repeats B1; rename one of them"),
    ],
    ids=["empty", "duplicate"],
)
def test_headers_must_be_named_and_unique(tmp_path: Path, header: list[Any], message: str):
    path = xlsx(tmp_path / "meta.xlsx", header, ["a.jpg", "x", "y"])

    with pytest.raises(MetadataError, match=f"^{path}: {message}$"):
        read_metadata(path)


def test_a_value_without_header_and_a_row_without_file_name_are_errors(tmp_path: Path):
    beyond = csv_file(tmp_path / "beyond.csv", "name,camera\na.jpg,front,extra\n")
    nameless = csv_file(tmp_path / "nameless.csv", "name,camera\na.jpg,front\n,back\n")

    with pytest.raises(MetadataError, match=r"C2: a value in a column without header; add the header"):
        read_metadata(beyond)
    with pytest.raises(MetadataError, match=r"A3: no 'name' but the row has values; fill it in or delete"):
        read_metadata(nameless)


def test_a_file_over_the_size_limit_is_refused_before_it_is_opened(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "name,note\n" + "a.jpg," + "x" * 2_000_000 + "\n")

    with pytest.raises(MetadataError) as caught:
        read_metadata(path, MetadataLimits(max_file_mb=1))

    assert str(caught.value) == (
        f"{path}: 1.9 MB, over the 1 MB limit of metadata files; "
        "split the file or raise the limit (max_file_mb)"
    )


def test_more_rows_than_the_limit_is_an_error_naming_the_row(tmp_path: Path):
    path = xlsx(tmp_path / "meta.xlsx", ["name"], *([f"{index}.jpg"] for index in range(4)))

    assert len(read_metadata(path, MetadataLimits(max_rows=4)).rows) == 4
    with pytest.raises(
        MetadataError, match=r"row 5: more than 3 rows, over the limit; split the file or raise"
    ):
        read_metadata(path, MetadataLimits(max_rows=3))


def test_more_columns_than_the_limit_is_an_error_naming_the_last_header(tmp_path: Path):
    path = xlsx(tmp_path / "meta.xlsx", ["name", "a", "b", "c"], ["a.jpg", 1, 2, 3])

    assert read_metadata(path, MetadataLimits(max_columns=4)).rows == {"a.jpg": {"a": 1, "b": 2, "c": 3}}
    with pytest.raises(MetadataError, match=r"D1: 4 columns, over the limit of 3; split the file or raise"):
        read_metadata(path, MetadataLimits(max_columns=3))


def test_a_cell_longer_than_the_limit_is_an_error_naming_the_cell(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "name,note\na.jpg,short\nb.jpg," + "x" * 101 + "\n")

    with pytest.raises(
        MetadataError, match=r"B3: 101 characters, over the limit of 100; shorten the cell or raise"
    ):
        read_metadata(path, MetadataLimits(max_cell_chars=100))


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"name,camera\na.jpg,front\n", "if it is CSV, rename it to .csv"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "open it in Excel and save it as .xlsx"),
    ],
    ids=["renamed-csv", "garbage"],
)
def test_a_file_that_is_not_really_a_workbook_is_a_clear_error(tmp_path: Path, content: bytes, hint: str):
    path = tmp_path / "meta.xlsx"
    path.write_bytes(content)

    with pytest.raises(MetadataError, match=rf"^{path}: not a valid .xlsx workbook \(.*\); {hint}$"):
        read_metadata(path)


def test_a_csv_that_is_not_utf8_says_how_to_save_it(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "name,place\na.jpg,Zürich\n", "latin-1")

    with pytest.raises(
        MetadataError, match=r"not UTF-8 text \(byte \d+\); save it as 'CSV UTF-8' or as .xlsx"
    ):
        read_metadata(path)


def test_a_csv_with_an_unclosed_quote_names_the_line(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", 'name,note\na.jpg,"never closed\n' + "x" * 200_000 + "\n")

    with pytest.raises(MetadataError, match=r"line 3 is not valid CSV \(field larger than field limit"):
        read_metadata(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "meta.xls",
            "metadata must be a .xlsx or .csv file, not '.xls'; save it as .xlsx or export it as CSV",
        ),
        ("meta.json", "metadata must be a .xlsx or .csv file, not '.json'"),
        ("missing.csv", "does not exist; give the path of a .csv metadata file"),
    ],
    ids=["old-excel", "json", "missing"],
)
def test_other_suffixes_and_missing_files_are_refused(tmp_path: Path, name: str, message: str):
    path = tmp_path / name
    if name != "missing.csv":
        path.write_text("{}")

    with pytest.raises(MetadataError, match=message):
        read_metadata(path)


def test_an_empty_file_says_what_it_needs(tmp_path: Path):
    path = csv_file(tmp_path / "meta.csv", "")

    with pytest.raises(
        MetadataError, match=r"no rows; add a header row \(file_name, ...\) and one row per file"
    ):
        read_metadata(path)


def test_importing_the_upload_modules_does_not_import_openpyxl():
    probe = (
        "import sys\n"
        "import synapse_sdk.plugins.categories.upload.discovery\n"
        "import synapse_sdk.plugins.categories.upload.metadata\n"
        "print('openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "False"
