#!/bin/sh
# usage: start-brubeck.sh PORT WEBPORT [CARBONPORT=WEBPORT+1] [RUNDIR]
# Writes a brubeck JSON config (one statsd sampler on UDP 127.0.0.1:PORT, 1 worker, recvmsg,
# HTTP on :WEBPORT, carbon backend -> 127.0.0.1:CARBONPORT), starts carbon-sink.py on CARBONPORT
# (it keeps the running count of received lines in RUNDIR/counts.json and exits when brubeck exits),
# then execs brubeck in the foreground (same PID as this script).
# Wrap it with taskset:  taskset -c 0 .ci/bench/peers/start-brubeck.sh 8125 8080
# Optional env: BR_FREQ (carbon flush / internal-stats interval s, default 1),
#               BR_MULTIMSG (recvmmsg batch, default 8; upstream re-reads stale buffers when >1, which build-brubeck.sh fixes),
#               BR_BIN (binary, default .build/peers/brubeck, built by build-brubeck.sh),
#               BR_CAPACITY (log2 of hash table size, default 15), SINK_CPUS (cpu list for the sink,
#               default all cpus "0-N"; set to "" to leave it on brubeck's affinity)
set -e
PORT=${1:?usage: $0 PORT WEBPORT [CARBONPORT] [RUNDIR]}
WEBPORT=${2:?usage: $0 PORT WEBPORT [CARBONPORT] [RUNDIR]}
CARBONPORT=${3:-$((WEBPORT + 1))}
D=${4:-${TMPDIR:-/tmp}/tally-peers/brubeck-$PORT}
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$D"; mkdir -p "$D"
cat > "$D/brubeck.json" <<CONF
{
  "sharding" : false,
  "server_name" : "brubeck",
  "dumpfile" : "$D/brubeck.dump",
  "capacity" : ${BR_CAPACITY:-15},
  "http" : "127.0.0.1:$WEBPORT",
  "backends" : [
    { "type" : "carbon", "address" : "127.0.0.1", "port" : $CARBONPORT, "frequency" : ${BR_FREQ:-1} }
  ],
  "samplers" : [
    { "type" : "statsd", "address" : "127.0.0.1", "port" : $PORT,
      "workers" : 1, "multisock" : false, "multimsg" : ${BR_MULTIMSG:-8} }
  ]
}
CONF
SINK_CPUS=${SINK_CPUS-0-$(($(nproc --all) - 1))}
if [ -n "$SINK_CPUS" ]; then
  taskset -c "$SINK_CPUS" /usr/bin/python3 "$HERE/carbon-sink.py" "$CARBONPORT" "$D/counts.json" brubeck $$ > "$D/sink.log" 2>&1 &
else
  /usr/bin/python3 "$HERE/carbon-sink.py" "$CARBONPORT" "$D/counts.json" brubeck $$ > "$D/sink.log" 2>&1 &
fi
# wait until the sink listens, so brubeck's first connect succeeds
i=0; while [ ! -s "$D/counts.json" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cd "$D"
exec "${BR_BIN:-$HERE/../../../.build/peers/brubeck}" --config "$D/brubeck.json" --log "$D/brubeck.log"
