"""The OpenAPI schema as this server behaves: what it accepts, how it authenticates.

FastAPI writes the schema from the request and response models; a few things the models cannot
say are added here, each mirroring the code that enforces it, so that a request the schema
allows is one the server answers, and one it forbids is refused (schemathesis checks both ways,
``tests/test_api_schema.py``):

- a question (``AskRequest.question``, ``ChatRequest.message``) holds a letter or digit and is at
  most ``max_question_chars`` long as sent (``Answerer._validated``);
- with API keys set, every operation but the public ones needs one (``api.auth``), in either
  header;
- HEAD is answered wherever GET is (``api.methods``), and left out, as implied by GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.auth import is_public_path
from qa.settings import Settings

# A letter or a digit anywhere: what Answerer._validated asks of a question (str.isalnum).
QUESTION_PATTERN = r"[\p{L}\p{N}]"
_QUESTION_FIELDS = {"AskRequest": "question", "ChatRequest": "message"}
_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "One of the API keys"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def describe_as_served(app: FastAPI, settings: Settings, keys_required: bool) -> None:
    """Make ``app``'s ``/openapi.json`` say what this server, with these settings, does."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    refined: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached until the routes change
        if refined != [id(schema)]:
            _refine(schema, settings, keys_required)
            refined[:] = [id(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _refine(schema: dict[str, Any], settings: Settings, keys_required: bool) -> None:
    components = schema.setdefault("components", {})
    models = components.get("schemas", {})
    for model, field in _QUESTION_FIELDS.items():
        properties = models.get(model, {}).get("properties", {})
        if field in properties:
            properties[field].update(
                minLength=1, maxLength=settings.max_question_chars, pattern=QUESTION_PATTERN
            )
    if keys_required:
        components["securitySchemes"] = _SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        operations.pop("head", None)
        if keys_required and not is_public_path(path):
            for operation in operations.values():
                operation["security"] = [{name: []} for name in _SECURITY_SCHEMES]
