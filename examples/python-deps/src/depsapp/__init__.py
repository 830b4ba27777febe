"""Routes of the python-deps example, on top of the tinyweb package."""

import os
import sys

import greeting
import tinyweb

MESSAGE = "python-deps says"


def make_app():
    app = tinyweb.default_app()

    @app.route("/")
    def index():
        return f"{MESSAGE}: {greeting.hello(os.environ.get('NAME', 'world'))}"

    @app.route("/info")
    def info():
        return {"python": sys.version.split()[0], "uid": os.getuid(), "prefix": sys.prefix, "greeting": greeting.__version__}

    return app
