"""HTTP layer: the FastAPI app factory and its routers (thin: validate, call the store)."""

from mllineage.api.app import create_app

__all__ = ["create_app"]
