#!/usr/bin/env python3
"""One HTTP(S) keep-alive connection across a reload of tally's web config.

usage: keepalive_client.py HOST PORT PATH AUTH1 GO_FILE [CAFILE CERT KEY]

Sends GET PATH with `Authorization: AUTH1` ('-' for none), prints the
status, then waits (up to 60 s) for GO_FILE to appear, sends a second GET on
the same connection with the Authorization header GO_FILE holds ('-' for
none), and prints that status and whether the same TCP connection carried it
(its local port did not change).
"""
import http.client, os, ssl, sys, time

host, port, path, auth1, go = sys.argv[1:6]
if len(sys.argv) > 6:
    context = ssl.create_default_context(cafile=sys.argv[6])
    context.load_cert_chain(sys.argv[7], sys.argv[8])
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
else:
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

def get(auth):
    headers = {} if auth == "-" else {"Authorization": auth}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status

print(get(auth1), flush=True)
before = conn.sock.getsockname()[1]
deadline = time.time() + 60
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("timed out waiting for " + go)
    time.sleep(0.05)
auth2 = open(go).read().strip()
status = get(auth2)
print(status, "same-connection" if conn.sock.getsockname()[1] == before else "new-connection", flush=True)
