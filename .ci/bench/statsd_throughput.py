#!/usr/bin/env python3
"""StatsD ingest throughput of `tally serve` beside udp-sink (the kernel's ceiling), in one run.

For each rate, statsd-blast sends for DURATION seconds; then the script waits for tally's flush and
checks what tally reports against what blast says a correct server must report:
  lost lines      = sent - tally_statsd_received_lines_total (kernel drops included)
  ring drops      = tally_ring_dropped_lines_total
  counter totals  = sum of every <prefix>_c_*_total series  vs blast's counter_sum_scaled
  timer counts    = sum of <prefix>_ms_*_seconds_count and <prefix>_h_*_count vs timer_count_scaled
A rate is lossless when at most 0.1% of lines are lost and the counter total is exact.

With --exact, every series is also checked value by value against statsd-blast's per-name
expectations (-E): each run starts just after a flush boundary and ends inside that interval
(so the flush interval must exceed the duration by 3 s), and then, bit for bit, a counter's
_total is its scaled sum, a gauge its last value, a timer's _seconds_count/_sum/_min/_max are
lines, sum/1000, min/1000, max/1000 (a histogram's _count/_sum/_min/_max without the division),
and a set its distinct members. The "values" column says how many series differ.

tally runs pinned to core 0 (`taskset -c 0`, so it uses at most one core), the generator to core 1.

Usage (release build first: swift build -c release --product tally):
  .ci/bench/statsd_throughput.py --proto udp --names 200 --rates 1e6,2e6,4e6 [--duration 10]
Needs statsd-blast and udp-sink built from ../shared/bench into .build/bench (see BENCHMARKS.md).
"""
import argparse, json, os, re, signal, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

from benchlib import ROOT, TALLY, free_port, get, metric

BLAST = os.path.join(ROOT, ".build/bench/statsd-blast")
SINK = os.path.join(ROOT, ".build/bench/udp-sink")


def query_sum(port, regex):
    q = urllib.parse.quote('{__name__=~"%s"}' % regex)
    data = json.loads(get(port, f"/api/v1/query?query={q}"))
    return sum(float(r["value"][1]) for r in data["data"]["result"]), len(data["data"]["result"])


def udp_drops():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    header, values = rows[0], rows[1]
    return int(values[header.index("RcvbufErrors")])


def blast(proto, port, rate, duration, names, mix, prefix, extra):
    cmd = ["taskset", "-c", "1", BLAST, "-P", proto, "-p", str(port), "-d", str(duration), "-r", str(int(rate)),
           "-k", str(names), "-m", mix, "-x", prefix] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def blast_senders(proto, port, rate, duration, names, mix, prefix, extra, senders, expect_dir):
    """Runs `senders` statsd-blast processes at once (each rate/senders and names/senders, so the
    series are as many as from one sender, with its own seed and prefix <prefix>x<i>, so its own
    source port and names); returns their summed results and
    the expectation files written (none without expect_dir)."""
    if senders == 1:
        files = [os.path.join(expect_dir, f"expect-{prefix}.tsv")] if expect_dir else []
        return blast(proto, port, rate, duration, names, mix, prefix, extra + sum((["-E", f] for f in files), [])), files
    procs, files = [], []
    for i in range(senders):
        name = f"{prefix}x{i}"
        flags = extra + ["-s", str(100 + i)]
        if expect_dir:
            files.append(os.path.join(expect_dir, f"expect-{name}.tsv"))
            flags += ["-E", files[-1]]
        cmd = ["taskset", "-c", "1", BLAST, "-P", proto, "-p", str(port), "-d", str(duration), "-r",
               str(int(rate / senders)), "-k", str(max(1, names // senders)), "-m", mix, "-x", name] + flags
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    total = {}
    for proc in procs:
        out = json.loads(proc.communicate()[0].strip().splitlines()[-1])
        for key in ("lines", "lines_per_sec", "counter_sum_scaled", "timer_count_scaled"):
            total[key] = total.get(key, 0) + out[key]
    return total, files


def run_sink(proto, rate, args):
    port = free_port()
    sink = subprocess.Popen(["taskset", "-c", "0", SINK, "-P", proto, "-p", str(port), "-r", str(8 << 20), "-q", "2",
                             "-t", str(args.duration + 30)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.3)
    sent = blast(proto, port, rate, args.duration, args.names, args.mix, "sink", args.blast_args)
    out, _ = sink.communicate(timeout=args.duration + 40)
    got = json.loads(out.strip().splitlines()[-1])
    lost = sent["lines"] - got["lines"]
    return sent, got, lost


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", default="udp", choices=["udp", "tcp"])
    p.add_argument("--names", type=int, default=200, help="names per type (5 types): 200 -> 1,000 series")
    p.add_argument("--mix", default="c=40,g=15,ms=20,h=10,s=15")
    p.add_argument("--rates", default="1e6,2e6,3e6,4e6,5e6")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--flush", default="2s")
    p.add_argument("--no-sink", action="store_true")
    p.add_argument("--blast-args", default="", help="extra statsd-blast flags, space separated")
    p.add_argument("--config", help="a tally.yaml for the server (default: built-in defaults)")
    p.add_argument("--senders", type=int, default=1,
                   help="statsd-blast processes sending at once (each rate/senders and names/senders, its own names)")
    p.add_argument("--exact", action="store_true",
                   help="check every series' values bit for bit (needs flush >= duration + 3 s)")
    p.add_argument("--warm", action="store_true",
                   help="before each rate, create every series with 3 s of traffic at 1 M lines/s, and measure "
                        "the steady state (totals compared as differences)")
    args = p.parse_args()
    args.blast_args = args.blast_args.split()
    if args.exact and (float(args.flush.rstrip("s")) < args.duration + 3 or args.warm):
        p.error("--exact needs --flush of at least --duration + 3 s, and no --warm")
    if args.warm and args.senders > 1:
        p.error("--warm sends from one sender only")

    data = tempfile.mkdtemp(prefix="tally-bench-")
    sport, hport = free_port(), free_port()
    tally = subprocess.Popen(["taskset", "-c", "0", TALLY, "serve", "--statsd-udp", f"127.0.0.1:{sport}",
                              "--statsd-tcp", f"127.0.0.1:{sport}", "--http", f"127.0.0.1:{hport}",
                              "--flush-interval", args.flush, "--data-dir", data, "--log-level", "warning"]
                             + (["--config", args.config] if args.config else []),
                             stderr=open(os.path.join(data, "stderr.log"), "w"))
    for _ in range(100):
        try:
            if get(hport, "/readyz").startswith("ready"):
                break
        except Exception:
            time.sleep(0.1)
    flush_s = float(args.flush.rstrip("s"))
    print(f"# proto={args.proto} names/type={args.names} mix={args.mix} duration={args.duration}s flush={args.flush}"
          f" config={args.config or 'defaults'} senders={args.senders} series={'warm' if args.warm else 'new at the start of each rate'}")
    print("| target lines/s | sent lines/s | tally lost | ring drops | counter total | timer count | "
          + ("values | " if args.exact else "") + "lossless | tally CPU | udp-sink lost |")
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if args.exact else ""))
    try:
        for n, rate in enumerate(float(r) for r in args.rates.split(",")):
            prefix = f"r{n}"
            base_c = base_t = 0.0
            if args.warm:
                blast(args.proto, sport, 1e6, 3, args.names, args.mix, prefix, args.blast_args + ["-s", "7"])
                time.sleep(2 * flush_s + 1)
                base_c, _ = query_sum(hport, f"{prefix}(x[0-9]+)?_c_.*_total")
                base_t = query_sum(hport, f"{prefix}(x[0-9]+)?_ms_.*_seconds_count")[0] + query_sum(hport, f"{prefix}(x[0-9]+)?_h_.*_count")[0]
            if args.exact:
                # Start 0.3 s into an interval, so that the whole run is flushed as one interval.
                time.sleep(flush_s - time.time() % flush_s + 0.3)
            before = get(hport, "/metrics")
            cpu0 = cpu_seconds(tally.pid)
            started = time.monotonic()
            sent, expects = blast_senders(args.proto, sport, rate, args.duration, args.names, args.mix, prefix,
                                          args.blast_args, args.senders, data if args.exact else None)
            cpu1 = cpu_seconds(tally.pid)
            elapsed = time.monotonic() - started
            if args.exact:
                time.sleep(flush_s - time.time() % flush_s + 1.5)
            else:
                time.sleep(2 * flush_s + 1)
            after = get(hport, "/metrics")
            received = metric(after, f'tally_statsd_received_lines_total{{transport="{args.proto}"}}') - \
                metric(before, f'tally_statsd_received_lines_total{{transport="{args.proto}"}}')
            drops = metric(after, "tally_ring_dropped_lines_total") - metric(before, "tally_ring_dropped_lines_total")
            counters, _ = query_sum(hport, f"{prefix}(x[0-9]+)?_c_.*_total")
            timers_ms, _ = query_sum(hport, f"{prefix}(x[0-9]+)?_ms_.*_seconds_count")
            timers_h, _ = query_sum(hport, f"{prefix}(x[0-9]+)?_h_.*_count")
            counters -= base_c
            timers_ms -= base_t
            lost = sent["lines"] - received + drops
            loss = lost / max(1, sent["lines"])
            exact = abs(counters - sent["counter_sum_scaled"]) < 1e-6 * max(1, sent["counter_sum_scaled"])
            timers_exact = abs(timers_ms + timers_h - sent["timer_count_scaled"]) < 1e-6 * max(1, sent["timer_count_scaled"])
            values_text, values_exact = "", True
            if args.exact:
                differ = checked = 0
                example = ""
                for expect in expects:
                    d, c, e = check_values(hport, expect)
                    differ, checked, example = differ + d, checked + c, example or e
                values_exact = differ == 0
                values_text = (f"exact ({checked} series) | " if values_exact
                               else f"{differ} of {checked} series differ, e.g. {example} | ")
            lossless = loss <= 0.001 and exact and values_exact
            cpu = (cpu1 - cpu0) / elapsed  # cores used while the load ran
            sink = ""
            if not args.no_sink:
                s_sent, s_got, s_lost = run_sink(args.proto, rate, args)
                sink = f"{100 * s_lost / max(1, s_sent['lines']):.3f}% of {s_sent['lines_per_sec'] / 1e6:.2f} M/s"
            expected_c = sent["counter_sum_scaled"]
            expected_t = sent["timer_count_scaled"]
            counter_text = "exact" if exact else f"{counters:.0f} of {expected_c:.0f}"
            timer_text = "exact" if timers_exact else f"{timers_ms + timers_h:.0f} of {expected_t:.0f}"
            print(f"| {rate / 1e6:.2f} M | {sent['lines_per_sec'] / 1e6:.2f} M | {100 * loss:.3f}% | {int(drops)} | "
                  f"{counter_text} | {timer_text} | {values_text}{'yes' if lossless else 'no'} | {cpu:.2f} core | {sink} |",
                  flush=True)
    finally:
        tally.send_signal(signal.SIGTERM)
        tally.wait(timeout=60)


def check_values(port, expect_file):
    """Compares every series tally reports for the run's names with blast's per-name expectations.
    Returns (series that differ, series checked, one difference as text)."""
    q = urllib.parse.quote('{__name__=~"%s_.*"}' % os.path.basename(expect_file)[len("expect-"):-len(".tsv")])
    data = json.loads(get(port, f"/api/v1/query?query={q}"))
    got = {r["metric"]["__name__"]: float(r["value"][1]) for r in data["data"]["result"] if "quantile" not in r["metric"]}
    differ = checked = 0
    example = ""
    with open(expect_file) as f:
        next(f)
        for row in f:
            kind, name, lines, total, scaled, last, low, high, distinct = row.rstrip("\n").split("\t")
            base = name.replace(".", "_")
            if kind == "c":
                wanted = {base + "_total": float(scaled)}
            elif kind == "g":
                wanted = {base: float(last)}
            elif kind == "s":
                wanted = {base: float(distinct)}
            else:
                scale, stem = (1000.0, base + "_seconds") if kind == "ms" else (1.0, base)
                wanted = {stem + "_count": float(lines), stem + "_sum": float(total) / scale,
                          stem + "_min": float(low) / scale, stem + "_max": float(high) / scale}
            checked += 1
            bad = [(k, v, got.get(k)) for k, v in wanted.items() if got.get(k) != v]
            if bad:
                differ += 1
                example = example or f"{bad[0][0]} = {bad[0][2]}, sent {bad[0][1]!r}"
    return differ, checked, example


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


if __name__ == "__main__":
    main()
