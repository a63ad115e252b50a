#!/bin/sh
# usage: start-netdata.sh PORT WEBPORT [RUNDIR]
# Writes a netdata.conf with only the statsd plugin (UDP 127.0.0.1:PORT, no TCP)
# and the web API on 127.0.0.1:WEBPORT, then execs netdata in the foreground.
# Wrap it with taskset:  taskset -c 0 .ci/bench/peers/start-netdata.sh 8125 19999
# Optional env: ND_FLUSH (statsd flush interval s, default 1),
#               ND_PRIVATE_CHARTS (pattern for per-metric charts, default "*" = netdata default),
#               ND_MAX_PRIVATE (max private charts hard limit, default 1000 = netdata default),
#               ND_UDP_BATCH (udp messages to process at once / recvmmsg size, default 10 = netdata default)
set -e
PORT=${1:?usage: $0 PORT WEBPORT [RUNDIR]}
WEBPORT=${2:?usage: $0 PORT WEBPORT [RUNDIR]}
D=${3:-${TMPDIR:-/tmp}/tally-peers/netdata-$PORT}
rm -rf "$D"
mkdir -p "$D/etc/statsd.d" "$D/cache" "$D/lib" "$D/log" "$D/run" "$D/plugins.d"
touch "$D/etc/.opt-out-from-anonymous-statistics" "$D/etc/.environment"
cat > "$D/etc/netdata.conf" <<CONF
[global]
	run as user = root
	hostname = statsd-peer-netdata
	process scheduling policy = other
	process nice level = 0
[db]
	mode = ram
	update every = 1
	memory deduplication (ksm) = no
[directories]
	config = $D/etc
	cache = $D/cache
	lib = $D/lib
	log = $D/log
	lock = $D/run
	plugins = $D/plugins.d
[logs]
	debug = none
	error = $D/log/error.log
	access = none
[web]
	mode = static-threaded
	bind to = 127.0.0.1:$WEBPORT
	web server threads = 1
	enable gzip compression = no
[health]
	enabled = no
[registry]
	enabled = no
[ml]
	enabled = no
[plugins]
	enable running new plugins = no
	check for new plugins every = 3600
	proc = no
	diskspace = no
	cgroups = no
	tc = no
	idlejitter = no
	timex = no
	apps = no
	slabinfo = no
	perf = no
	nfacct = no
	netdata monitoring = yes
	statsd = yes
[statsd]
	bind to = udp:127.0.0.1:$PORT
	update every (flushInterval) = ${ND_FLUSH:-1}
	udp messages to process at once = ${ND_UDP_BATCH:-10}
	create private charts for metrics matching = ${ND_PRIVATE_CHARTS:-*}
	max private charts hard limit = ${ND_MAX_PRIVATE:-1000}
CONF
cd "$D"
export DO_NOT_TRACK=1
exec /usr/sbin/netdata -D -c "$D/etc/netdata.conf"
