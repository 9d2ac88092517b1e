#!/usr/bin/env bash
# The main job on the embedded default: check the demo plugin, train it with live progress,
# then show the run as it was recorded in the SQLite store under .synapse-demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SYNAPSE_HOME="$root/.synapse-demo"
synapse="$root/.venv/bin/synapse"
cd "$root/examples/synapse-demo-plugin"

echo "== synapse plugin check"
"$synapse" plugin check
echo
echo "== synapse plugin run train (live progress, then the result)"
"$synapse" plugin run train '{"dataset_path": "/data/images", "epochs": 20}' --debug
run_id=$("$synapse" job list --json -n 1 | "$root/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "== synapse job get $run_id (the recorded run)"
"$synapse" job get "$run_id"
echo
echo "== synapse job logs $run_id"
"$synapse" job logs "$run_id"
echo
echo "Recorded in $SYNAPSE_HOME/synapse.db; list every run with: SYNAPSE_HOME=$SYNAPSE_HOME $synapse job list"
