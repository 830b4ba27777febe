# Excluded from the image by app.exclude (and the expert's .dockerignore).
from largeapp import MODULES


def test_modules():
    assert MODULES == 300
