"""A minimal HTTP service on the standard library, built by distill."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GREETING = "hello from python-http"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, "text/plain", b"ok\n")
        elif self.path == "/info":
            info = {"python": sys.version.split()[0], "uid": os.getuid(), "executable": sys.executable, "prefix": sys.prefix}
            self.reply(200, "application/json", json.dumps(info).encode() + b"\n")
        elif self.path == "/":
            self.reply(200, "text/plain; charset=utf-8", (GREETING + "\n").encode())
        else:
            self.reply(404, "text/plain", b"not found\n")

    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer((host, port), Handler)
    print(f"python-http listening on {host}:{port} as uid {os.getuid()}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
