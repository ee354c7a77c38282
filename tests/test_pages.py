"""What a browser fetches without a key: the chat page, its assets, and /docs with Swagger UI
served from this app (nothing from a CDN, so it works offline)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient


def test_the_chat_page_and_its_assets_are_public(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="k")
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert client.post("/chat", json={"message": "Who?"}).status_code == 401


def test_the_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/static/app.js", "/static/style.css"):
        assert not re.search(r"https?://", client.get(path).text), path


def test_docs_serve_swagger_ui_from_this_app(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assets = re.findall(r"['\"](/static/docs/[^'\"]+)['\"]", docs.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
