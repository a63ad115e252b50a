#!/bin/bash
# Storage benchmark, tally beside its peers in one run (release build first:
#   swift build -c release --product tally).
# Runs ../shared/bench/tsdb-peers/reproduce.sh (promtool, Prometheus's own
# compaction, VictoriaMetrics import; needs Debian's prometheus,
# victoria-metrics and bc) and then imports the same OpenMetrics file into
# tally, printing bytes per sample on disk and the import rate.
#   .ci/bench/tsdb_compare.sh [SERIES=1000] [DURATION=24h] [WORKDIR=/tmp/tsdb-repro]
set -eu
SERIES=${1:-1000}; DUR=${2:-24h}; W=${3:-/tmp/tsdb-repro}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/bench/tsdb-peers/reproduce.sh}
TALLY=$ROOT/.build/release/tally
bash "$PEERS" "$SERIES" "$DUR" "$W"
D=$W/d$SERIES-$DUR
N=$(grep -vc '^#' "$D.openmetrics")
echo "## tally tsdb import (blocks written already compacted)"
rm -rf "$W/tally"
/usr/bin/time -f "tally_import_wall_s=%e maxrss_kb=%M" "$TALLY" tsdb import "$D.openmetrics" --data-dir "$W/tally"
b=$(du -sb "$W/tally" | cut -f1)
echo "tally_bytes=$b B/sample=$(echo "scale=3; $b / $N" | bc)"
"$TALLY" tsdb inspect "$W/tally" | tail -2
"$TALLY" tsdb verify "$W/tally"
