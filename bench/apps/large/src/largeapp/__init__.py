"""The large benchmark app: tinyweb routes over a few hundred generated modules."""

import importlib
import os

import dep01
import greeting
import tinyweb

MODULES = 300


def total():
    return sum(importlib.import_module(f"largeapp.mods.m{i:03d}").value() for i in range(MODULES))


def make_app():
    app = tinyweb.default_app()

    @app.route("/")
    def index():
        return f"{greeting.hello(os.environ.get('NAME', 'world'))} ({total()}, dep01={dep01.value()})"

    return app
