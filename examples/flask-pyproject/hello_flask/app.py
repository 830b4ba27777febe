"""The Flask app and `main`, the `hello-flask` console script."""

import os
import sys

from flask import Flask, jsonify

GREETING = "hello from flask-pyproject"

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


def main():
    # Flask's own (Werkzeug) server, threaded: it keeps the project at one
    # dependency. A production service puts a WSGI server such as gunicorn
    # in front (see examples/poetry-app and examples/django-gunicorn).
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8080"))
    app.run(host=host, port=port, threaded=True)


if __name__ == "__main__":
    main()
