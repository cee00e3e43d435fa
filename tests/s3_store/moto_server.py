"""Starts moto's S3 server on 127.0.0.1, on a port the system picks, prints
that port on a line of its own, and serves until its stdin closes (the test
that started it has ended)."""

import sys

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server._server.server_port, flush=True)
sys.stdin.read()
server.stop()
