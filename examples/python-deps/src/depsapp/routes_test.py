# Excluded from the image by app.exclude: tests stay out of production.
from depsapp import make_app


def test_routes():
    assert "/" in make_app().routes
