"""The API page at /schema/docs: Swagger UI on the OpenAPI document at /schema/openapi.json,
with its scripts and styles served from the `swagger-ui-bundle-v2` package under
/schema/assets. Nothing is loaded from elsewhere: it works offline, and its
Content-Security-Policy says so to the browser."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from app.infra.web.access import public

ASSETS = "/schema/assets"
TITLE = "Rooms and food ordering (CQRS monolith)"
_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{document}", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"
}});
</script>
</body>
</html>
"""


@get("/schema/docs", opt=public(), include_in_schema=False, sync_to_thread=False)
def api_page(request: Request[Any, Any, Any]) -> Response[bytes]:
    root = request.scope.get("root_path", "")
    page = _PAGE.format(title=TITLE, assets=f"{root}{ASSETS}", document=f"{root}/schema/openapi.json")
    return Response(page.encode(), media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": _POLICY})


def assets_router() -> Router:
    """Swagger UI's files, from the package."""
    return create_static_files_router(path=ASSETS, directories=[swagger_ui_path], opt=public(), include_in_schema=False)


routes: list[ControllerRouterHandler] = [api_page, assets_router()]
