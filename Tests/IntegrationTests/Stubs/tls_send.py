#!/usr/bin/env python3
"""Sends bytes over one TLS connection, then closes it.

usage: tls_send.py HOST PORT CAFILE CERT KEY TEXT   (TEXT's \\n are newlines)
"""
import socket, ssl, sys

host, port, cafile, cert, key, text = sys.argv[1:7]
context = ssl.create_default_context(cafile=cafile)
context.load_cert_chain(cert, key)
with socket.create_connection((host, int(port)), timeout=10) as raw:
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(text.encode().decode("unicode_escape").encode())
        tls.unwrap()
print("sent")
