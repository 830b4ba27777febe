"""Entry point of the large benchmark app."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from largeapp import make_app  # noqa: E402

if __name__ == "__main__":
    make_app().serve()
