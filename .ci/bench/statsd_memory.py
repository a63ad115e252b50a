#!/usr/bin/env python3
"""RSS of `tally serve` per active series.

Starts the release build, reads its baseline RSS, then creates N distinct series over TCP (so no line
is lost) with statsd-blast's default type mix (40% counters, 15% gauges, 20% timers, 10% histograms,
15% sets, each series sent a few values), waits until every series is active and then for two more
flushes into the store (so each series holds the same few samples whatever the timing: the bytes of
a series' open chunk grow with its samples), and reads RSS again. Reports the growth per active
series, for the aggregation state and the store together; with --runs, each run and their median.
The flush interval is tally's default (10 s) unless --flush-interval says otherwise.

Usage: .ci/bench/statsd_memory.py --series 100000,1000000 [--runs 3] [--binary PATH]
"""
import argparse, signal, socket, statistics, subprocess, tempfile, time

from benchlib import TALLY, free_port, get

# The other listeners off, so a run beside another tally (or another run) finds its ports free.
QUIET = ["--logs-tcp", "off", "--logs-udp", "off", "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off"]


def status_bytes(pid, field):
    """A size from /proc/PID/status (VmRSS, VmHWM, …) in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss_bytes(pid):
    return status_bytes(pid, "VmRSS")


def metric(port, name):
    for line in get(port, "/metrics").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def mix_lines(n, rnd, prefix="mem"):
    """One value for each of n series of the mix (c 40%, g 15%, ms 20%, h 10%, s 15%), round rnd."""
    kinds = [("c", 40), ("g", 15), ("ms", 20), ("h", 10), ("s", 15)]
    out = []
    start = 0
    for kind, weight in kinds:
        count = n * weight // 100
        for i in range(start, start + count):
            value = f"u{rnd}" if kind == "s" else str(1 + (i + rnd) % 900)
            out.append(f"{prefix}.{kind}.{i}:{value}|{kind}|#env:prod,host:h{i % 16}\n")
        start += count
    return "".join(out)


def lines_for(n, rounds):
    return "".join(mix_lines(n, r) for r in range(rounds)).encode()


def flushes(port):
    return metric(port, "tally_flush_duration_seconds_count")


def wait_for_flushes(port, count, timeout=120):
    """Waits until `count` more flushes have happened (each shard's flush of one interval counts once)."""
    seen = 0
    last = flushes(port)
    last_change = 0.0
    deadline = time.time() + timeout
    while seen < count and time.time() < deadline:
        time.sleep(0.2)
        now = flushes(port)
        if now != last:
            # The shards flush an interval within milliseconds of each other: one event.
            if time.time() - last_change > 1.0:
                seen += 1
            last, last_change = now, time.time()


def measure(binary, n, rounds, config, flush_interval):
    data = tempfile.mkdtemp(prefix="tally-mem-")
    sport, hport = free_port(), free_port()
    tally = subprocess.Popen([binary, "serve", "--statsd-udp", "off", "--statsd-tcp", f"127.0.0.1:{sport}", *QUIET,
                              "--http", f"127.0.0.1:{hport}", "--data-dir", data, "--log-level", "warning"]
                             + (["--flush-interval", flush_interval] if flush_interval else [])
                             + (["--config", config] if config else []))
    try:
        time.sleep(1.5)
        baseline = rss_bytes(tally.pid)
        payload = lines_for(n, rounds)
        with socket.create_connection(("127.0.0.1", sport)) as s:
            s.sendall(payload)
        deadline = time.time() + 300
        while metric(hport, "tally_series_active") < n and time.time() < deadline:
            time.sleep(0.2)
        wait_for_flushes(hport, 2)
        time.sleep(1)
        return metric(hport, "tally_series_active"), baseline, rss_bytes(tally.pid)
    finally:
        tally.send_signal(signal.SIGTERM)
        tally.wait(timeout=120)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--series", default="100000,1000000")
    p.add_argument("--rounds", type=int, default=3, help="values sent per series")
    p.add_argument("--config", help="a tally.yaml for every run (e.g. to raise storage series limits)")
    p.add_argument("--flush-interval", help="passed to tally serve (default: tally's own, 10 s)")
    p.add_argument("--runs", type=int, default=1, help="runs per size; the median is reported too")
    p.add_argument("--binary", default=TALLY, help="the tally binary to measure")
    args = p.parse_args()
    print("| active series | baseline RSS | RSS after | bytes per series |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.series.split(",")):
        per_series = []
        for _ in range(args.runs):
            active, baseline, after = measure(args.binary, n, args.rounds, args.config, args.flush_interval)
            per_series.append((after - baseline) / max(1, active))
            print(f"| {int(active):,} | {baseline / 2**20:.1f} MiB | {after / 2**20:.1f} MiB | "
                  f"{per_series[-1]:.0f} |", flush=True)
        if args.runs > 1:
            print(f"| median of {args.runs} | | | {statistics.median(per_series):.0f} |", flush=True)


if __name__ == "__main__":
    main()
