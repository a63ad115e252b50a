#!/usr/bin/env python3
"""RSS of `tally serve` per active series.

Starts the release build, reads its baseline RSS, then creates N distinct series over TCP (so no line
is lost) with statsd-blast's default type mix (40% counters, 15% gauges, 20% timers, 10% histograms,
15% sets, each series sent a few values), waits for two flushes, and reads RSS again. Reports the
growth per active series, for the aggregation state alone and including the in-memory sample store.

Usage: .ci/bench/statsd_memory.py --series 100000,1000000
"""
import argparse, signal, socket, subprocess, tempfile, time

from benchlib import TALLY, free_port, get

# The other listeners off, so a run beside another tally (or another run) finds its ports free.
QUIET = ["--logs-tcp", "off", "--logs-udp", "off", "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off"]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--series", default="100000,1000000")
    p.add_argument("--rounds", type=int, default=3, help="values sent per series")
    p.add_argument("--config", help="a tally.yaml for every run (e.g. to raise storage series limits)")
    args = p.parse_args()
    print("| active series | baseline RSS | RSS after | bytes per series |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.series.split(",")):
        data = tempfile.mkdtemp(prefix="tally-mem-")
        sport, hport = free_port(), free_port()
        tally = subprocess.Popen([TALLY, "serve", "--statsd-udp", "off", "--statsd-tcp", f"127.0.0.1:{sport}", *QUIET,
                                  "--http", f"127.0.0.1:{hport}", "--flush-interval", "2s", "--data-dir", data,
                                  "--log-level", "warning"] + (["--config", args.config] if args.config else []))
        time.sleep(1.5)
        baseline = rss_bytes(tally.pid)
        payload = lines_for(n, args.rounds)
        with socket.create_connection(("127.0.0.1", sport)) as s:
            s.sendall(payload)
        deadline = time.time() + 300
        while metric(hport, "tally_series_active") < n and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # two flushes into the store
        active = metric(hport, "tally_series_active")
        after = rss_bytes(tally.pid)
        print(f"| {int(active):,} | {baseline / 2**20:.1f} MiB | {after / 2**20:.1f} MiB | "
              f"{(after - baseline) / max(1, active):.0f} |", flush=True)
        tally.send_signal(signal.SIGTERM)
        tally.wait(timeout=120)


if __name__ == "__main__":
    main()
