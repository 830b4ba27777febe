"""hello-flask: a Flask service whose console script starts it."""
