"""Tests of the ``to_task`` action."""

import json


def test_to_task_assigns_round_robin(synapse_run, tmp_path):
    output = tmp_path / "tasks.json"
    run = synapse_run("to_task", {"annotators": ["ann", "bob", "cy"], "output_path": str(output)})

    assert run.succeeded
    tasks = json.loads(output.read_text())
    assert [t["assignee"] for t in tasks] == ["ann", "bob", "cy", "ann"]
    assert len({t["data_unit"] for t in tasks}) == 4
    assert run.metrics["assignments"] == {"ann": 2, "bob": 1, "cy": 1}
    assert run.progress["tasks"]["current"] == 4
