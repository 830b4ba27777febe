"""The app and its console script: `poetry-app` runs gunicorn in-process.

gunicorn is used as a library (its BaseApplication), so the image's
entrypoint is the console script Poetry declares and pip writes into the
venv, not a gunicorn command line.
"""

import os
import sys

from flask import Flask, jsonify
from gunicorn.app.base import BaseApplication

GREETING = "hello from poetry-app"

app = Flask(__name__)


@app.get("/")
def index():
    return GREETING + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/info")
def info():
    return jsonify(uid=os.getuid(), python=sys.version.split()[0], prefix=sys.prefix)


@app.get("/healthz")
def healthz():
    return "ok\n", 200, {"Content-Type": "text/plain"}


class Server(BaseApplication):
    """gunicorn with its settings from a dict instead of the command line."""

    def __init__(self, application, options):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def main():
    host = os.environ.get("HOST", "0.0.0.0")
    port = os.environ.get("PORT", "8080")
    options = {
        "bind": f"{host}:{port}",
        "workers": int(os.environ.get("WORKERS", "2")),
        "accesslog": "-",
    }
    Server(app, options).run()


if __name__ == "__main__":
    main()
