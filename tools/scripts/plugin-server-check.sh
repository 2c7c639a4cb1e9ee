#!/usr/bin/env bash
# Checks that an MLflow tracking server answers the REST calls its UI makes, e.g. one
# serving a tree through the Python plugin (docs/python.md):
#   mlflow server --backend-store-uri mlruns:///tmp/tree --port 5000 &
#   bash tools/scripts/plugin-server-check.sh http://127.0.0.1:5000
# Writes an experiment "plugin-server-check-<time>" with one run over REST, then reads
# it back the way the UI does. Prints one line per call (HTTP status, call); exits 1 if a
# call that must succeed does not. Endpoints a server version lacks (404) are reported.
set -euo pipefail
base="${1:?usage: plugin-server-check.sh URL}"
py=/usr/bin/python3
failed=0
call() {  # call EXPECTED METHOD PATH [JSON]
  local expected=$1 method=$2 path=$3 body=${4:-}
  local code
  code=$(curl -s -o /tmp/plugin-server-check.$$ -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
    ${body:+-d "$body"} "$base$path")
  printf '%s %s %s\n' "$code" "$method" "${path%%\?*}"
  if [ "$code" = 404 ] && [ "$expected" = optional ]; then return 0; fi
  if [ "$expected" != optional ] && [ "$code" != "$expected" ]; then
    failed=1; head -c 300 /tmp/plugin-server-check.$$ >&2; echo >&2
  fi
}
field() { "$py" -c "import json,sys; d=json.load(open('/tmp/plugin-server-check.$$')); print(eval('d' + sys.argv[1]))" "$1"; }
api=/ajax-api/2.0/mlflow
name="plugin-server-check-$(date +%s%N)"
call 200 POST $api/experiments/create "{\"name\":\"$name\"}"; exp=$(field '["experiment_id"]')
call 200 POST $api/runs/create "{\"experiment_id\":\"$exp\",\"run_name\":\"r1\",\"start_time\":1700000000000}"
run=$(field '["run"]["info"]["run_id"]')
call 200 POST $api/runs/log-batch "{\"run_id\":\"$run\",\"metrics\":[{\"key\":\"loss\",\"value\":0.5,\"timestamp\":1700000000001,\"step\":1},{\"key\":\"loss\",\"value\":0.25,\"timestamp\":1700000000002,\"step\":2}],\"params\":[{\"key\":\"lr\",\"value\":\"0.1\"}],\"tags\":[{\"key\":\"t\",\"value\":\"v\"}]}"
call 200 POST $api/experiments/search '{"max_results":25,"order_by":["last_update_time DESC"]}'
call 200 GET "$api/experiments/get?experiment_id=$exp"
call 200 GET "$api/experiments/get-by-name?experiment_name=$name"
call 200 POST $api/runs/search "{\"experiment_ids\":[\"$exp\"],\"max_results\":100,\"order_by\":[\"attributes.start_time DESC\"],\"run_view_type\":\"ACTIVE_ONLY\"}"
call 200 POST $api/runs/search "{\"experiment_ids\":[\"$exp\"],\"filter\":\"metrics.loss < 0.3 and params.lr = '0.1'\",\"max_results\":1}"
[ "$(field '["runs"][0]["info"]["run_id"]')" = "$run" ] || { echo "runs/search: filter missed the run" >&2; failed=1; }
call 200 GET "$api/runs/get?run_id=$run"
call 200 GET "$api/metrics/get-history?run_id=$run&metric_key=loss&max_results=100"
call 200 GET "$api/metrics/get-history-bulk-interval?run_ids=$run&metric_key=loss&max_results=320"
call 200 GET "$api/artifacts/list?run_id=$run"
call 200 POST $api/experiments/search-datasets "{\"experiment_ids\":[\"$exp\"]}"
call optional POST $api/logged-models/search "{\"experiment_ids\":[\"$exp\"]}"
call optional GET "$api/traces?experiment_ids=$exp"
call 200 GET "$api/registered-models/search?max_results=10"
call 200 POST $api/runs/set-tag "{\"run_id\":\"$run\",\"key\":\"mlflow.note.content\",\"value\":\"from the UI\"}"
call 200 POST $api/runs/delete-tag "{\"run_id\":\"$run\",\"key\":\"mlflow.note.content\"}"
call 200 POST $api/runs/update "{\"run_id\":\"$run\",\"run_name\":\"renamed-in-ui\"}"
call 200 POST $api/runs/update "{\"run_id\":\"$run\",\"status\":\"FINISHED\",\"end_time\":1700000000500}"
call 200 POST $api/experiments/update "{\"experiment_id\":\"$exp\",\"new_name\":\"$name-renamed\"}"
call 200 POST $api/experiments/set-experiment-tag "{\"experiment_id\":\"$exp\",\"key\":\"mlflow.note.content\",\"value\":\"d\"}"
call 200 POST $api/runs/delete "{\"run_id\":\"$run\"}"
call 200 POST $api/runs/restore "{\"run_id\":\"$run\"}"
call 400 POST $api/runs/log-batch "{\"run_id\":\"$run\",\"params\":[{\"key\":\"lr\",\"value\":\"0.2\"}]}"
call 404 GET "$api/runs/get?run_id=0123456789abcdef0123456789abcdef"
call 400 POST $api/runs/search "{\"experiment_ids\":[\"$exp\"],\"filter\":\"metrics.loss <<< 1\"}"
call 200 POST $api/experiments/delete "{\"experiment_id\":\"$exp\"}"
rm -f /tmp/plugin-server-check.$$
if [ "$failed" -ne 0 ]; then echo "plugin-server-check: FAILED" >&2; exit 1; fi
echo "plugin-server-check: every call answered as expected"
