# Expert baseline for the fastapi-uv app in `make bench`: the multi-stage
# Dockerfile a careful engineer writes for examples/fastapi-uv (FastAPI +
# pydantic under uvicorn, dependencies locked in uv.lock), with the practices
# of bench/expert/Dockerfile. Built by BuildKit's built-in dockerfile.v0
# frontend, on the same bases as distill.
#
# The install follows the lock exactly, the way an expert without uv in the
# builder does: requirements.txt is the hashed export of uv.lock (what
# `uv export --frozen --no-dev --no-emit-project --no-header -o
# requirements.txt` writes; uv cannot be had on the test bed, so
# bench/expert/fastapi-uv.requirements.txt was made by integration/cmd/mklock
# and bench/cmd/bench checks that it pins exactly the packages, versions and
# hashes uv.lock locks for CPython 3.13 on linux/x86_64; regenerate it with
# `go run ./integration/cmd/mklock -header "the expert's export of uv.lock:
# see bench/expert/fastapi-uv.Dockerfile." -requirements
# bench/expert/fastapi-uv.requirements.txt examples/fastapi-uv`), installed
# with `pip install --require-hashes --no-deps`: no resolver runs, and a file
# whose hash is not in the lock fails the build. The context must hold
# requirements.txt and app/ (fastapi-uv.Dockerfile.dockerignore keeps
# pyproject.toml, uv.lock, tests and caches out).
#
# The harness copies the app and puts this file, its .dockerignore and the
# export in as Dockerfile, .dockerignore and requirements.txt, then runs
#
#   buildctl build --frontend dockerfile.v0 --local context=. --local dockerfile=. \
#     --opt build-arg:PIP_INDEX_URL=http://127.0.0.1:3141/simple --output type=oci,dest=app.tar
ARG BUILDER_IMAGE=python:3.13-slim-trixie
ARG RUNTIME_IMAGE=gcr.io/distroless/python3-debian13:nonroot

FROM ${BUILDER_IMAGE} AS build
# The runtime keeps Python at /usr/bin/python3.13, the slim image at
# /usr/local/bin: make the runtime path exist here so the venv records it
# (pyvenv.cfg home, bin/ links, the scripts' #! lines) and works unchanged
# in distroless. Directories are owned by the unprivileged build user.
RUN --network=none ln -s /usr/local/bin/python3.13 /usr/bin/python3.13 \
 && mkdir -p /opt/venv /app /home/build/.cache/pip \
 && chown -R 10001:10001 /opt/venv /app /home/build
USER 10001:10001
ENV HOME=/home/build PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# --without-pip: the builder's pip installs into the venv, so pip,
# setuptools and wheel never exist in it and need no uninstall step.
RUN --network=none /usr/bin/python3.13 -m venv --without-pip /opt/venv
# Manifest first: only the exported lock reaches this step (bind mount, no
# layer), so a code change never re-runs the install. --require-hashes
# --no-deps: the lock is the resolution. pip's cache lives in a cache mount
# owned by the build user; bytecode is compiled here, once per dependency
# set, in unchecked-hash mode (reproducible, never rewritten).
ARG PIP_INDEX_URL
RUN --mount=type=cache,id=bench-expert-pip,target=/home/build/.cache/pip,uid=10001,gid=10001 \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    python3 -m pip --python /opt/venv/bin/python install --no-compile --progress-bar off \
      --require-hashes --no-deps -r /tmp/requirements.txt \
 && /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /opt/venv/lib
COPY --chown=10001:10001 app /app/app
RUN --network=none /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /app

FROM ${RUNTIME_IMAGE}
# --link: each copy is an independent layer, so a new base digest reuses
# them; owned by root, so the runtime user cannot modify the app.
COPY --link --chown=0:0 --from=build /opt/venv /opt/venv
COPY --link --chown=0:0 --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/venv PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 8080
# No shell and no curl in distroless: an exec-form check run by the venv's
# interpreter (fails on a refused connection, a timeout or a non-2xx/3xx).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["/opt/venv/bin/python", "-I", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["/opt/venv/bin/uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"]
