#!/usr/bin/env python3
"""Minimal Graphite/carbon plaintext sink for brubeck.
usage: carbon-sink.py CARBONPORT STATEFILE [SERVER_NAME=brubeck] [WATCH_PID]
Accepts brubeck's carbon TCP connection on 127.0.0.1:CARBONPORT, discards the metric lines but sums
brubeck's internal per-flush counters <SERVER_NAME>.metrics / .errors (lines parsed OK / bad per flush),
and rewrites STATEFILE (JSON) after every read. Exits when WATCH_PID is gone (if given)."""
import json, os, socket, sys, time, selectors
port = int(sys.argv[1]); state_file = sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "brubeck"
watch = int(sys.argv[4]) if len(sys.argv) > 4 else 0
keys = {name + ".metrics": "metrics_total", name + ".errors": "errors_total", name + ".unique_keys": "unique_keys"}
st = {"metrics_total": 0, "errors_total": 0, "unique_keys": 0, "flushes": 0, "carbon_lines": 0, "last_flush_unix": 0}
def save():
    tmp = state_file + ".tmp"
    with open(tmp, "w") as f: json.dump(st, f)
    os.replace(tmp, state_file)
save()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(8); ls.setblocking(False)
sel = selectors.DefaultSelector(); sel.register(ls, selectors.EVENT_READ, None)
bufs = {}
while True:
    for k, _ in sel.select(timeout=1.0):
        if k.data is None:
            c, _a = ls.accept(); c.setblocking(False); bufs[c] = b""; sel.register(c, selectors.EVENT_READ, 1)
            continue
        c = k.fileobj
        try: d = c.recv(1 << 20)
        except (BlockingIOError, InterruptedError): continue
        except OSError: d = b""
        if not d:
            sel.unregister(c); c.close(); bufs.pop(c, None); continue
        data = bufs[c] + d; lines = data.split(b"\n"); bufs[c] = lines.pop()
        changed = False
        for ln in lines:
            st["carbon_lines"] += 1
            p = ln.split(b" ")
            if len(p) >= 2:
                f = keys.get(p[0].decode(errors="replace"))
                if f:
                    v = int(float(p[1]))
                    if f == "unique_keys": st[f] = v
                    else: st[f] += v
                    if f == "metrics_total": st["flushes"] += 1; st["last_flush_unix"] = int(time.time())
                    changed = True
        if changed: save()
    if watch:
        try:
            with open("/proc/%d/stat" % watch) as f: zombie = f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except OSError: zombie = True  # gone
        if zombie: sys.exit(0)
