#!/usr/bin/env bash
# The main job on the embedded default, on real photos: the annotation workflow of scripts/demo.py
# (upload -> pre_annotation -> to_task -> auto_label -> review -> post_annotation -> validation ->
# COCO export), then a few seconds of training on scikit-learn's digits imported into the platform
# (train -> test with the neural_net template's CNN), each step a recorded run in the SQLite store
# under .synapse-demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SYNAPSE_HOME="$root/.synapse-demo"
synapse="$root/.venv/bin/synapse"
rm -rf "$SYNAPSE_HOME"  # the demo's own platform, made anew each time

echo "== the annotation workflow on scikit-image's sample photos, then training on the digits (SYNAPSE_HOME=$SYNAPSE_HOME)"
"$root/.venv/bin/python" "$root/scripts/demo.py" "$SYNAPSE_HOME/photos"
echo
echo "== synapse job list (every step's run)"
"$synapse" job list
run_id=$("$synapse" job list --json -n 1 | "$root/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "== synapse job get $run_id (the digits model's test, as it was recorded)"
"$synapse" job get "$run_id"
echo
echo "Look again with: SYNAPSE_HOME=$SYNAPSE_HOME $synapse job list"
