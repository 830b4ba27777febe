"""Tests of the app, for the dev dependency group (uv run pytest); not in the image."""

from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_greet():
    r = client.post("/greet", json={"name": "distill", "times": 2})
    assert r.status_code == 200
    assert r.json() == {"message": "hello, distill! hello, distill!"}


def test_greet_validates():
    assert client.post("/greet", json={"name": ""}).status_code == 422
    assert client.post("/greet", json={"name": "x", "times": 9}).status_code == 422
