#!/usr/bin/env python3
"""Head memory per active series: tally beside Prometheus and VictoriaMetrics, in one run.

Each store starts empty and takes the same gen-series.py samples in time order, one request per
scrape step, as a live feed would deliver them: Prometheus (Debian's `prometheus`, with its
remote-write receiver) and VictoriaMetrics (Debian's `victoria-metrics`, at its remote-write
endpoint) over HTTP on 127.0.0.1, tally in-process through `tally-bench --head-memory-file`.
Reported: resident memory gained (VmRSS after minus before) divided by the series.

Needs: apt-get install prometheus victoria-metrics; pip install cramjam (snappy);
swift build -c release --product tally-bench.
  .ci/bench/head_memory_peers.py FILE.csv FILE.openmetrics     (gen-series.py output, same args)
"""
import csv, json, os, shutil, signal, struct, subprocess, sys, tempfile, time, urllib.parse, urllib.request

import cramjam

from benchlib import ROOT, free_port


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# Remote-write protobuf, encoded by hand: WriteRequest{1: TimeSeries}, TimeSeries{1: Label, 2: Sample},
# Label{1: name, 2: value}, Sample{1: double value, 2: int64 timestamp}.
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode_labels(labels):
    return b"".join(field(1, field(1, k.encode()) + field(2, v.encode())) for k, v in labels)


def encode_sample(ts, value):
    return b"\x09" + struct.pack("<d", value) + b"\x10" + varint(ts & 0xFFFFFFFFFFFFFFFF)


def load(path):
    """Series (label tuples) and their samples, from gen-series.py CSV."""
    series, index = [], {}
    with open(path) as f:
        reader = csv.reader(f)
        next(reader)
        for name, labels, ts, value in reader:
            key = (name, labels)
            i = index.get(key)
            if i is None:
                pairs = [("__name__", name)] + [tuple(p.split("=", 1)) for p in labels.split(";") if p]
                i = index[key] = len(series)
                series.append((encode_labels(sorted(pairs)), []))
            series[i][1].append((int(ts), float(value)))
    return series


def push(url, series, steps):
    for step in range(steps):
        body = b"".join(field(1, labels + field(2, encode_sample(*samples[step]))) for labels, samples in series)
        request = urllib.request.Request(url, data=bytes(cramjam.snappy.compress_raw(body)), method="POST", headers={
            "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


def wait_ready(url, proc):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"{url}: the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url}: not ready")


def visible_series(base, at_ms):
    """How many series the server answers for at the last step (a check that the push landed)."""
    query = urllib.parse.urlencode({"query": 'count({__name__=~".+"})', "time": f"{at_ms / 1000:.3f}"})
    with urllib.request.urlopen(f"{base}/api/v1/query?{query}", timeout=60) as response:
        result = json.load(response)["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def measure(name, argv, ready, write, series, steps, settle=5):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(ready, proc)
        time.sleep(2)
        before = rss_kb(proc.pid)
        start = time.time()
        push(write, series, steps)
        took = time.time() - start
        time.sleep(settle)
        after = rss_kb(proc.pid)
        per = (after - before) * 1024 / len(series)
        seen = visible_series(write.rsplit("/api/", 1)[0], series[0][1][steps - 1][0])
        print(f"{name}: {per:.0f} bytes RSS per series (RSS {before} -> {after} kB, push {took:.1f} s, {seen} series visible)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    csv_path, openmetrics = sys.argv[1], sys.argv[2]
    series = load(csv_path)
    steps = min(len(s[1]) for s in series)
    print(f"{len(series)} series x {steps} samples")
    work = tempfile.mkdtemp(prefix="tally-headmem-")
    try:
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        port = free_port()
        measure("prometheus", ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/prom",
                               f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver"],
                f"http://127.0.0.1:{port}/-/ready", f"http://127.0.0.1:{port}/api/v1/write", series, steps)
        port = free_port()
        measure("victoria-metrics", ["victoria-metrics", f"-storageDataPath={work}/vm",
                                     f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=100y"],
                f"http://127.0.0.1:{port}/health", f"http://127.0.0.1:{port}/api/v1/write", series, steps)
        result = subprocess.run([os.path.join(ROOT, ".build/release/tally-bench"), "--head-memory-file", openmetrics],
                                capture_output=True, text=True, check=True)
        print("tally:", result.stdout.strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
