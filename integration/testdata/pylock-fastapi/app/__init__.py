"""fastapi-uv: a FastAPI service that uvicorn serves."""
