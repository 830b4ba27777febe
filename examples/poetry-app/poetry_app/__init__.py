"""poetry-app: a Flask service that gunicorn serves, started by a console script."""

__version__ = "0.1.0"
