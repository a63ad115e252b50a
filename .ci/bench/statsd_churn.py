#!/usr/bin/env python3
"""RSS of `tally serve` under series churn: names that expire while new ones arrive at the same rate.

Every flush interval (10 s) the current generation of N StatsD series (the statsd_memory.py mix of
c/g/ms/h/s, tagged env and host) gets a value each over TCP; every --generation seconds a new
generation of names replaces the old one, whose series expire from aggregation (series_expiry) and
later leave the storage head when its block range is written out and truncated. Prints, every
minute, the active StatsD series, the series in the head, the process RSS and its peak so far
(VmHWM, which block writes and checkpoints raise), and the allocator's bytes in use and held free
(tally_heap_in_use_bytes, tally_heap_free_bytes): under churn the RSS
should level off once the head's cycle (block range plus half of it) has turned over, not grow.

Usage: .ci/bench/statsd_churn.py [--series 20000] [--generation 120] [--minutes 60]
                                 [--block-duration 10m] [--expiry 1m] [--binary PATH]
                                 [--compaction-ranges 30m]
"""
import argparse, os, signal, socket, subprocess, tempfile, time

from benchlib import TALLY, free_port, get

# The other listeners off, so a run beside another tally (or another run) finds its ports free.
QUIET = ["--logs-tcp", "off", "--logs-udp", "off", "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off"]
from statsd_memory import metric, mix_lines, rss_bytes, status_bytes


def peak_bytes(pid):
    """The process's highest RSS so far."""
    return status_bytes(pid, "VmHWM")


def heap(port, which):
    """The allocator's bytes in use or held free, as tally reports them (a build without the
    figures: "-")."""
    value = metric(port, f"tally_heap_{which}_bytes")
    return f"{value / 2**20:.1f} MiB" if value > 0 else "-"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--series", type=int, default=20000, help="StatsD series per generation")
    p.add_argument("--generation", type=int, default=120, help="seconds a generation of names lives")
    p.add_argument("--minutes", type=int, default=60)
    p.add_argument("--block-duration", default="10m", help="storage.block_duration (the head's cycle)")
    p.add_argument("--expiry", default="1m", help="aggregation.series_expiry")
    p.add_argument("--binary", default=TALLY, help="the tally binary to measure")
    p.add_argument("--compaction-ranges", help="storage.compaction_ranges, e.g. 30m (default: tally's, 12h and 3d "
                   "windows aligned to UTC, so a run crossing noon or midnight compacts)")
    args = p.parse_args()
    data = tempfile.mkdtemp(prefix="tally-churn-")
    config = os.path.join(data, "churn.yaml")
    with open(config, "w") as f:
        f.write(f"aggregation:\n  series_expiry: {args.expiry}\nstorage:\n  block_duration: {args.block_duration}\n")
        if args.compaction_ranges:
            f.write(f"  compaction_ranges: [{args.compaction_ranges}]\n")
    sport, hport = free_port(), free_port()
    tally = subprocess.Popen([args.binary, "serve", "--statsd-udp", "off", "--statsd-tcp", f"127.0.0.1:{sport}", *QUIET,
                              "--http", f"127.0.0.1:{hport}", "--data-dir", data + "/data", "--config", config,
                              "--log-level", "warning"])
    time.sleep(1.5)
    print(f"# {args.series} series per generation, a new generation every {args.generation} s, "
          f"series_expiry {args.expiry}, block_duration {args.block_duration}")
    print("| minute | generations so far | active StatsD series | head series | RSS | peak RSS | heap in use | heap free |")
    print("|---|---|---|---|---|---|---|---|")
    began = time.time()
    next_report = began
    rnd = 0
    try:
        with socket.create_connection(("127.0.0.1", sport)) as s:
            while time.time() - began < args.minutes * 60 + 1:
                now = time.time() - began
                gen = int(now // args.generation)
                s.sendall(mix_lines(args.series, rnd, prefix=f"churn.g{gen}").encode())
                rnd += 1
                if time.time() >= next_report:
                    print(f"| {int(now // 60)} | {gen + 1} | {int(metric(hport, 'tally_series_active')):,} | "
                          f"{int(metric(hport, 'tally_storage_head_series')):,} | "
                          f"{rss_bytes(tally.pid) / 2**20:.1f} MiB | {peak_bytes(tally.pid) / 2**20:.1f} MiB | "
                          f"{heap(hport, 'in_use')} | {heap(hport, 'free')} |", flush=True)
                    next_report += 60
                time.sleep(max(0.0, 10 - (time.time() - began - now)))
    finally:
        tally.send_signal(signal.SIGTERM)
        tally.wait(timeout=120)


if __name__ == "__main__":
    main()
