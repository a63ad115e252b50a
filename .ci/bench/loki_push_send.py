#!/usr/bin/env python3
"""Loki push sending: a tally drains a backlog of log lines into a second tally's /loki/api/v1/push.

The sender (tally with its defaults for loki_push: batch_size 1MiB, batch_wait 1s; but
min_backoff 30ms and max_backoff 100ms, so it starts sending within 100 ms of the receiver) starts
empty, its destination not up yet, and takes LINES JSON lines (about 110 bytes each, 20 services,
three levels) over its logs TCP port. They pile up in its log WAL. Then the receiver (a second
tally, its defaults) starts, and the clock runs from when it answers until the sender reports
every entry acknowledged (tally_loki_push_sent_entries_total). Reported: entries/s and MB/s of
lines drained, the sender's and the receiver's CPU over the drain (utime+stime from /proc, in
cores), and the receiver's count of entries stored (tally_logs_entries_appended_total). Neither
Loki nor Promtail can be installed here, so there is no reference sender in the same run: the
receiver's own CPU is the yardstick (the sender should cost less than the receiver storing).

Needs: swift build -c release --product tally.
  .ci/bench/loki_push_send.py [--lines 500000] [--rounds 2]
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time

from benchlib import TALLY, free_port, metric
from remote_write_receive import cpu_seconds, http_get, wait_ready


def serve(directory, name, http_port, extra):
    config = os.path.join(directory, name + ".yaml")
    with open(config, "w") as f:
        f.write(f"data_dir: {directory}/{name}\nhttp:\n  listen: 127.0.0.1:{http_port}\nstatsd:\n  udp: 'off'\n  tcp: 'off'\n  unix: ''\n"
                "otlp:\n  listen: 'off'\n" + extra)
    log = open(os.path.join(directory, name + ".log"), "w")
    proc = subprocess.Popen([TALLY, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
    wait_ready(http_port, "/readyz", proc)
    return proc


def run_one(args):
    directory = tempfile.mkdtemp(prefix="loki-push-bench-")
    sender_port, receiver_port, logs_port = free_port(), free_port(), free_port()
    sender = serve(directory, "sender", sender_port,
                   f"logs:\n  tcp: 127.0.0.1:{logs_port}\n  udp: 'off'\n  syslog_tcp: 'off'\n  syslog_udp: 'off'\n"
                   f"loki_push:\n  - url: http://127.0.0.1:{receiver_port}/loki/api/v1/push\n    name: central\n"
                   "    min_backoff: 30ms\n    max_backoff: 100ms\n")
    receiver = None
    try:
        levels = ["info", "warn", "error"]
        lines = "".join(
            f'{{"level":"{levels[n % 3]}","service":"svc{n % 20}","msg":"request {n} served in {n % 997} ms","path":"/api/v1/items/{n % 5000}"}}\n'
            for n in range(args.lines)).encode()
        with socket.create_connection(("127.0.0.1", logs_port)) as s:
            s.sendall(lines)
        deadline = time.time() + 120
        while metric(http_get(sender_port, "/metrics")[1], "tally_logs_entries_appended_total") < args.lines:
            if time.time() > deadline:
                sys.exit("the sender did not store every line")
            time.sleep(0.2)
        receiver = serve(directory, "receiver", receiver_port,
                         "logs:\n  tcp: 'off'\n  udp: 'off'\n  syslog_tcp: 'off'\n  syslog_udp: 'off'\n")
        start = time.time()
        cpu0 = cpu_seconds(sender.pid), cpu_seconds(receiver.pid)
        while metric(http_get(sender_port, "/metrics")[1], "tally_loki_push_sent_entries_total") < args.lines:
            if time.time() - start > 300:
                sys.exit("the sender did not drain its backlog in 300 s")
            time.sleep(0.05)
        elapsed = time.time() - start
        cpu1 = cpu_seconds(sender.pid), cpu_seconds(receiver.pid)
        stored = metric(http_get(receiver_port, "/metrics")[1], "tally_logs_entries_appended_total")
        return elapsed, (cpu1[0] - cpu0[0]) / elapsed, (cpu1[1] - cpu0[1]) / elapsed, stored, len(lines)
    finally:
        for proc in (sender, receiver):
            if proc is not None:
                proc.kill()
                proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for round in range(args.rounds):
        elapsed, sender_cores, receiver_cores, stored, size = run_one(args)
        print(f"round {round + 1}: {args.lines} entries ({size / 1e6:.1f} MB of lines) drained in {elapsed:.2f} s: "
              f"{args.lines / elapsed / 1e3:.0f} k entries/s, {size / elapsed / 1e6:.1f} MB/s; "
              f"sender {sender_cores:.2f} cores, receiver {receiver_cores:.2f} cores; receiver stored {stored:.0f}", flush=True)


if __name__ == "__main__":
    main()
