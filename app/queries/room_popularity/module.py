"""The room_popularity view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.room_popularity import http, projector
from app.tags import ROOMS

module = Module("room_popularity", tag=ROOMS, routes=http.routes, subscriptions=[projector.subscription])
