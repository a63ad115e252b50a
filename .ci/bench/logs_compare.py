#!/usr/bin/env python3
"""Logs: lossless TCP ingest, bytes on disk, and query latency, beside gzip -6 and zgrep, in one run.

Usage (release build first: swift build -c release --product tally):
  .ci/bench/logs_compare.py [--lines 5000000] [--work /tmp/logs-bench] [--runs 5]

1. ../shared/datasets/gen-logs.py writes LINES JSON lines (cached in WORK); its stderr gives the
   exact ERROR count per service. gzip -6 of the same file is made and timed.
2. `tally serve` (fresh data dir, segments written every 5 s) takes the whole file over one TCP
   connection as fast as the sender can write it; lines/s and MB/s are the file over the time
   until /metrics shows every line appended (lossless: appended == lines, no refusal).
3. Bytes on disk: the segment files once the head is written out, beside raw and gzip -6.
4. Latency (median of RUNS) of the log query {service="payments"} |= "timeout" (as Grafana asks:
   limit 1000, the whole range), of a count of every such line over the whole range (the same work
   as zgrep -c), and of sum by (service) (count_over_time({level="error"}[5m])) over the whole
   range; beside `zgrep -c timeout` over the gzip file in the same run. Counts are checked
   against the generator's (errors) and against a count made here from the file (timeouts).
"""
import argparse, gzip, json, os, socket, statistics, subprocess, sys, time, urllib.parse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, TALLY, free_port, get, metric

p = argparse.ArgumentParser()
p.add_argument("--lines", type=int, default=5_000_000)
p.add_argument("--work", default="/tmp/logs-bench")
p.add_argument("--runs", type=int, default=5)
a = p.parse_args()
os.makedirs(a.work, exist_ok=True)
data = os.path.join(a.work, f"logs-{a.lines}.jsonl")
meta_path = data + ".meta"
if not os.path.exists(data) or not os.path.exists(meta_path):
    with open(data, "w") as out, open(meta_path, "w") as err:
        subprocess.run([sys.executable, os.path.join(ROOT, "../shared/datasets/gen-logs.py"), "--lines", str(a.lines),
                        "--format", "json"], stdout=out, stderr=err, check=True)
meta = json.loads(open(meta_path).read().strip().splitlines()[-1])
raw = os.path.getsize(data)
gz = data + ".gz"
t0 = time.perf_counter()
subprocess.run(f"gzip -6 -c {data} > {gz}", shell=True, check=True)
gzip_seconds = time.perf_counter() - t0
gz_size = os.path.getsize(gz)

timeouts = 0
with open(data, "rb") as f:
    for line in f:
        if b'"service":"payments"' in line and b"timeout" in line:
            timeouts += 1
first = json.loads(open(data).readline())["ts"]
print(f"## {a.lines} lines, {raw/1e6:.1f} MB raw; gzip -6: {gz_size/1e6:.2f} MB ({gz_size/raw:.4f} of raw) in {gzip_seconds:.1f} s")

work = os.path.join(a.work, "tally")
subprocess.run(["rm", "-rf", work])
config = os.path.join(a.work, "bench.yaml")
with open(config, "w") as c:
    c.write("logs:\n  storage:\n    segment_duration: 5s\n    retention: 3650d\n")
http, logs = free_port(), free_port()
proc = subprocess.Popen([TALLY, "serve", "--config", config, "--data-dir", work, "--http", f"127.0.0.1:{http}",
                         "--statsd-udp", "off", "--statsd-tcp", "off", "--logs-udp", "off", "--syslog-udp", "off",
                         "--syslog-tcp", "off", "--logs-tcp", f"127.0.0.1:{logs}"],
                        stderr=open(os.path.join(a.work, "tally.log"), "w"))
try:
    for _ in range(200):
        try:
            if get(http, "/readyz"):
                break
        except Exception:
            time.sleep(0.1)
    sock = socket.create_connection(("127.0.0.1", logs))
    t0 = time.perf_counter()
    with open(data, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            sock.sendall(block)
    sock.close()
    sent = time.perf_counter() - t0
    while True:
        m = get(http, "/metrics")
        appended = metric(m, "tally_logs_entries_appended_total")
        rejected = metric(m, "tally_logs_rejected_entries_total")
        if appended + rejected >= a.lines:
            break
        time.sleep(0.05)
    stored = time.perf_counter() - t0
    cpu = sum(int(x) for x in open(f"/proc/{proc.pid}/stat").read().split()[13:15]) / os.sysconf("SC_CLK_TCK")
    print(f"ingest over TCP: {a.lines/stored:,.0f} lines/s, {raw/stored/1e6:.1f} MB/s (sender done in {sent:.1f} s, "
          f"all stored in {stored:.1f} s; appended {appended:.0f}, refused {rejected:.0f}, "
          f"tally CPU {cpu:.1f} s = {cpu/stored:.2f} cores)")
    assert appended == a.lines and rejected == 0, "ingest lost lines"
    # Wait for the head to be written out as segments.
    seg_dir = os.path.join(work, "logs", "segments")
    for _ in range(600):
        m = get(http, "/metrics")
        if metric(m, "tally_logs_head_bytes") == 0:
            break
        time.sleep(0.1)
    seg = sum(os.path.getsize(os.path.join(seg_dir, n)) for n in os.listdir(seg_dir))
    print(f"on disk: segments {seg/1e6:.2f} MB = {seg/raw:.4f} of raw = {seg/gz_size:.3f} x gzip -6")

    def q(path, params):
        url = f"/loki/api/v1/{path}?" + urllib.parse.urlencode(params)
        t = time.perf_counter()
        body = get(http, url)
        return (time.perf_counter() - t) * 1000, json.loads(body)
    start = "2026-11-27T23:00:00Z"
    end = "2026-12-01T00:00:00Z"
    def median(path, params):
        times, answer = [], None
        for i in range(a.runs + 1):
            ms, answer = q(path, params)
            if i:
                times.append(ms)
        return statistics.median(times), answer
    filt = '{service="payments"} |= "timeout"'
    ms1, ans1 = median("query_range", {"query": filt, "start": start, "end": end, "limit": 1000})
    n1 = sum(len(s["values"]) for s in ans1["data"]["result"])
    ms2, ans2 = median("query", {"query": f'sum(count_over_time({filt} [4d]))', "time": end})
    n2 = int(float(ans2["data"]["result"][0]["value"][1]))
    ms3, ans3 = median("query_range", {"query": 'sum by (service) (count_over_time({level="error"}[5m]))',
                                          "start": start, "end": end, "step": "300"})
    errors = {s["metric"]["service"]: int(sum(float(v) for _, v in s["values"])) for s in ans3["data"]["result"]}
    zg = []
    for i in range(a.runs):
        t = time.perf_counter()
        out = subprocess.run(["zgrep", "-c", "timeout", gz], capture_output=True, text=True).stdout.strip()
        zg.append((time.perf_counter() - t) * 1000)
    zms = statistics.median(zg)
    print(f"zgrep -c timeout (all services): {zms:.0f} ms, {out} lines")
    print(f"tally log query {filt} limit 1000, whole range: {ms1:.0f} ms ({n1} lines) = {zms/ms1:.1f}x faster than zgrep")
    print(f"tally count of every such line, whole range: {ms2:.0f} ms ({n2} lines; file says {timeouts}) = {zms/ms2:.1f}x faster than zgrep")
    print(f"tally sum by (service) (count_over_time({{level=\"error\"}}[5m])), whole range at 5m: {ms3:.0f} ms")
    print(f"error counts: tally {dict(sorted(errors.items()))}")
    print(f"          generator {dict(sorted(meta['errors_by_service'].items()))}  equal={errors == meta['errors_by_service']}")
    assert n2 == timeouts, "timeout count differs"
    rss = [l for l in open(f"/proc/{proc.pid}/status") if l.startswith(("VmHWM", "VmRSS"))]
    print("tally " + " ".join(l.split()[0] + l.split()[1] + "kB" for l in rss))
finally:
    proc.terminate()
    proc.wait()
