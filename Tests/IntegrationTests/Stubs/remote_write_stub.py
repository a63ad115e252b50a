#!/usr/bin/env python3
"""A remote_write receiver stub for tests: answers each POST with the next
status of a script and logs every request.

  remote_write_stub.py PORT_FILE LOG_FILE SCRIPT

SCRIPT is a comma-separated list of answers, the last one repeating:
"500" (status 500), "429:2" (status 429 with Retry-After: 2), "400", "200"
(the success a receiver answers is 204). The port it listens on (127.0.0.1,
chosen by the kernel) is written to PORT_FILE; each request adds a line
"UNIX_TIME STATUS BODY_BYTES" to LOG_FILE.
"""
import http.server
import sys
import threading
import time

port_file, log_path, script = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
lock = threading.Lock()
answered = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            step = script[min(answered[0], len(script) - 1)]
            answered[0] += 1
            with open(log_path, "a") as log:
                log.write(f"{time.time():.3f} {step.split(':')[0]} {len(body)}\n")
        status, _, retry_after = step.partition(":")
        status = 204 if status == "200" else int(status)
        text = b"" if status == 204 else f"stub answers {status}".encode()
        self.send_response(status)
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
