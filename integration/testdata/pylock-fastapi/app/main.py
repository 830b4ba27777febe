"""The FastAPI app: `uvicorn app.main:app` serves it."""

import os
import sys

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

GREETING = "hello from fastapi-uv"

app = FastAPI(title="fastapi-uv")


class GreetingRequest(BaseModel):
    """The body of POST /greet; FastAPI answers 422 when it does not validate."""

    name: str = Field(min_length=1, max_length=64)
    times: int = Field(default=1, ge=1, le=5)


class GreetingReply(BaseModel):
    message: str


class Info(BaseModel):
    uid: int
    python: str
    prefix: str


@app.get("/", response_class=PlainTextResponse)
def index() -> str:
    return GREETING + "\n"


@app.get("/info")
def info() -> Info:
    return Info(uid=os.getuid(), python=sys.version.split()[0], prefix=sys.prefix)


@app.get("/healthz", response_class=PlainTextResponse)
def healthz() -> str:
    return "ok\n"


@app.post("/greet")
def greet(body: GreetingRequest) -> GreetingReply:
    return GreetingReply(message=" ".join([f"hello, {body.name}!"] * body.times))
