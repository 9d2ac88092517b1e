"""The writers' files: label files written whole, the journal kept open, and read back as a stream."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
import warnings
from pathlib import Path

import pytest

from synapse_sdk.formats import Sample, _files, get_writer, validate_annotation
from synapse_sdk.formats._files import Journal, LabelFiles, iter_journal, journal_part, read_journal
from tests.formats.exports import CLASSES


def test_label_files_are_written_whole_and_their_folder_made_again_if_removed(tmp_path):
    files = LabelFiles(tmp_path)
    files.write("labels/train", "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    files.write("labels/train", "a.txt", b"1 0.5 0.5 0.1 0.1\n")  # a rewrite replaces it
    files.write("", "top.txt", b"top")
    assert (tmp_path / "labels/train/a.txt").read_bytes() == b"1 0.5 0.5 0.1 0.1\n"
    assert (tmp_path / "top.txt").read_bytes() == b"top"
    shutil.rmtree(tmp_path / "labels")  # the folder it made, gone meanwhile
    files.write("labels/train", "b.txt", b"")
    assert sorted(p.name for p in (tmp_path / "labels/train").iterdir()) == ["b.txt"]  # no temporary left


def test_the_journal_stays_open_and_writes_its_lines_whole_when_flushed(tmp_path):
    path = tmp_path / "j" / "samples.jsonl"
    journal = Journal(path)
    journal.append(0, {"stem": "a"})
    descriptor = journal._descriptor
    journal.append(1, {"stem": "é"})
    assert journal._descriptor == descriptor  # not opened again per line
    assert path.read_bytes() == b""  # kept until flushed: one write for many lines
    journal.flush()
    assert path.read_bytes() == '{"index":0,"stem":"a"}\n{"index":1,"stem":"é"}\n'.encode()
    journal.close()
    journal.append(2, {"stem": "c"})  # opens again
    journal.close()  # and a close flushes
    with path.open("ab") as stream:  # a kill cut the next line short
        stream.write(b'{"index":3,"st')
    resumed = Journal(path)  # a resumed run cuts it off first
    resumed.append(3, {"stem": "d"})
    del resumed  # a journal dropped unclosed still writes its lines, as a file object does
    assert [r["stem"] for r in read_journal(path)] == ["a", "é", "c", "d"]


def test_the_journal_writes_without_being_asked_once_its_buffer_is_full(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "JOURNAL_BUFFER", 100)
    path = tmp_path / "samples.jsonl"
    journal = Journal(path)
    for index in range(10):
        journal.append(index, {"stem": "x" * 20})
    written = read_journal(path)
    assert 0 < len(written) < 10  # some batches out, the last lines still kept
    assert [r["index"] for r in written] == list(range(len(written)))
    journal.close()
    assert len(read_journal(path)) == 10


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_appends_through_a_journal_of_its_own(tmp_path):
    path = tmp_path / "samples.jsonl"
    journal = Journal(path)
    journal.append(0, {"stem": "parent"})
    journal.flush()
    journal.append(1, {"stem": "parent, not flushed before the fork"})
    with warnings.catch_warnings():  # Python 3.12+ warns of forking a process with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        try:
            journal.append(2, {"stem": "child"})
            journal.close()  # writes its own line, not its copy of the parent's
            os._exit(0 if journal._descriptor == -1 else 1)
        finally:
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0
    journal.append(3, {"stem": "parent"})
    journal.close()
    stems = [r["stem"] for r in read_journal(path)]
    assert stems == ["parent", "parent, not flushed before the fork", "child", "parent"]


def test_iter_journal_streams_read_journals_records(tmp_path, monkeypatch):
    """Out of order, in several parts (more than it keeps open at once), an index written twice
    (the last line wins, a later part over an earlier one), gaps, a cut line, other key orders."""
    monkeypatch.setattr(_files, "_OPEN_PARTS", 2)
    path = tmp_path / "samples.jsonl"
    order = [7, 3, 11, 0, 5, 3, 9, 2, 14, 7]
    for position, index in enumerate(order):
        part = Journal(journal_part(path, None if position % 4 == 0 else str(position % 4)))
        part.append(index, {"stem": f"s{index}-{position}"})
    with path.open("ab") as stream:
        stream.write(b'{"stem": "other order", "index": 20}\n{"index":21,"stem":"cut')
    expected = read_journal(path)
    assert [r["index"] for r in expected] == [0, 2, 3, 5, 7, 9, 11, 14, 20]
    assert list(iter_journal(path)) == expected
    assert list(iter_journal(tmp_path / "none.jsonl")) == []


def test_iter_journal_refuses_an_index_that_is_not_a_sample_index(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps({"index": -1}) + "\n")
    with pytest.raises(ValueError, match="whole number from 0"):
        list(iter_journal(path))


def peak_while_closing(root: Path, count: int) -> int:
    """The peak of memory traced while a VOC writer of ``count`` samples closes."""
    annotation = validate_annotation(
        {"images": [{"bounding_box": [{"id": "b1", "classification": "face", "data": [1, 2, 3, 4]}]}]},
        where="t",
    )
    writer = get_writer("voc")(root, CLASSES)
    for index in range(count):
        split = ("train", "val", None)[index % 3]
        writer.write(Sample(index, str(index), f"{index:06d}.jpg", 64, 48, split, annotation))
    tracemalloc.start()
    try:
        writer.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_closing_voc_does_not_hold_the_journal(tmp_path):
    small = peak_while_closing(tmp_path / "small", 300)
    large = peak_while_closing(tmp_path / "large", 3_000)
    # 2,700 more samples: the index array (8 bytes each) and noise, not the records (~500 bytes each).
    assert large - small < 60_000, (small, large)
    assert len((tmp_path / "large/ImageSets/Main/train.txt").read_text().splitlines()) == 1_000
