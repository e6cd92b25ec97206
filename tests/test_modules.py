"""The one list of modules is complete and consistent: every package that declares a module
is in it, names are unique, and what the app serves and runs is exactly what it lists."""

from __future__ import annotations

from pathlib import Path

from app import modules
from app.http import create_app
from tests.conftest import settings_for

APP = Path(modules.__file__).parent


def test_every_declared_module_is_listed_once() -> None:
    declared = {p.parent.name for p in [*APP.glob("commands/*/module.py"), *APP.glob("queries/*/module.py")]}
    listed = [m.name for m in modules.MODULES]
    assert len(listed) == len(set(listed))
    assert declared <= set(listed), declared - set(listed)
    names = [s.name for s in modules.SUBSCRIPTIONS]
    assert len(names) == len(set(names))


def test_the_app_serves_every_modules_routes_and_only_those(database_url: str) -> None:
    app = create_app(settings_for(database_url))
    served = {(method, route.path) for route in app.routes for method in getattr(route, "methods", ()) if method != "OPTIONS"}
    listed = {
        (method, handler.paths.copy().pop()) for m in modules.MODULES for handler in m.routes for method in handler.http_methods
    }
    assert listed <= served
    assert all(path.startswith("/schema") for _, path in served - listed), served - listed  # the document and its page
