"""What a browser fetches on its own from the console's origin."""

from __future__ import annotations

from tests.api.conftest import Deployment


def test_favicon_is_served(deployment: Deployment) -> None:
    icon = deployment.client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.lstrip().startswith(b"<svg")
    page = deployment.client.get("/")
    assert 'rel="icon" href="console/favicon.svg"' in page.text
    assert deployment.client.get("/console/favicon.svg").status_code == 200
