"""The rooms view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.rooms import http, projector
from app.tags import ROOMS

module = Module("rooms", tag=ROOMS, routes=http.routes, subscriptions=[projector.subscription])
