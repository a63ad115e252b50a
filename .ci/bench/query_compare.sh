#!/bin/bash
# PromQL range-query latency, tally beside Prometheus and VictoriaMetrics, in one run, on the
# data .ci/bench/tsdb_compare.sh left in WORKDIR (Prometheus's compacted blocks in psrv/,
# VictoriaMetrics' vmdata/, the dataset, tally's import in tally/). Release build first:
#   swift build -c release --product tally
#   .ci/bench/query_compare.sh [WORKDIR=/tmp/tsdb-repro] [SERIES=1000] [DURATION=24h]
# Then a query reading every sample twice (over 17 M) through tally, with its peak RSS.
set -eu
W=${1:-/tmp/tsdb-repro}; SERIES=${2:-1000}; DUR=${3:-24h}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TALLY=${TALLY:-$ROOT/.build/release/tally}
START=1704067200
case ${DUR: -1} in h) MUL=3600;; d) MUL=86400;; *) MUL=1;; esac
END=$((START + ${DUR%?} * MUL))
PPORT=19091; VPORT=18429; TPORT=19471
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done' EXIT
wait_up() { for i in $(seq 1 120); do curl -sf "$1" >/dev/null && return 0; sleep 0.5; done; echo "not up: $1"; exit 1; }

[ -d "$W/tally" ] || "$TALLY" tsdb import "$W/d$SERIES-$DUR.openmetrics" --data-dir "$W/tally"
prometheus --config.file="$ROOT/../shared/bench/tsdb-peers/prometheus.yml" --storage.tsdb.path="$W/psrv" \
  --storage.tsdb.retention.time=10y --web.listen-address=127.0.0.1:$PPORT > "$W/prom-q.log" 2>&1 & PIDS+=($!)
victoria-metrics -storageDataPath="$W/vmdata" -httpListenAddr=127.0.0.1:$VPORT -retentionPeriod=10y > "$W/vm-q.log" 2>&1 & PIDS+=($!)
"$TALLY" serve --data-dir "$W/tally" --http 127.0.0.1:$TPORT --statsd-udp off --statsd-tcp off > "$W/tally-q.log" 2>&1 & TP=$!; PIDS+=($TP)
wait_up http://127.0.0.1:$PPORT/-/ready; wait_up http://127.0.0.1:$VPORT/health; wait_up http://127.0.0.1:$TPORT/readyz

echo "## range queries over ${DUR} at step 60s: median and p90 of 20 runs after a warm-up"
python3 "$ROOT/.ci/bench/query_bench.py" prometheus http://127.0.0.1:$PPORT $START $END
python3 "$ROOT/.ci/bench/query_bench.py" vm-nocache http://127.0.0.1:$VPORT $START $END --extra nocache=1
python3 "$ROOT/.ci/bench/query_bench.py" tally http://127.0.0.1:$TPORT $START $END

echo "## the same over one kept-alive connection each (as Grafana and Go clients connect)"
python3 "$ROOT/.ci/bench/query_bench.py" prometheus http://127.0.0.1:$PPORT $START $END --keepalive
python3 "$ROOT/.ci/bench/query_bench.py" vm-nocache http://127.0.0.1:$VPORT $START $END --extra nocache=1 --keepalive
python3 "$ROOT/.ci/bench/query_bench.py" tally http://127.0.0.1:$TPORT $START $END --keepalive

echo "## the raw series, requests interleaved across the three servers (10 rounds of 100 each)"
python3 "$ROOT/.ci/bench/query_interleaved.py" 'http_requests_total{job="api",instance="api-0:8080",method="GET",status="200"}' $START $END \
  http://127.0.0.1:$TPORT,http://127.0.0.1:$VPORT,http://127.0.0.1:$PPORT --names tally,vm-nocache,prometheus --extra nocache=1

echo "## one query reading every sample twice (17.3 M samples for 1,000 x 24h), through tally"
Q='count(last_over_time({__name__=~".+"}[1d])) + count(last_over_time({__name__=~".+"}[1d] offset 1s))'
/usr/bin/time -f "wall_s=%e" curl -s -G "http://127.0.0.1:$TPORT/api/v1/query" --data-urlencode "query=$Q" --data-urlencode "time=$END"; echo
echo "tally $(grep -E 'VmRSS|VmHWM' /proc/$TP/status | tr -s ' \t\n' ' ')"
