"""The available_restaurants view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.available_restaurants import http, projector
from app.tags import RESTAURANTS

module = Module("available_restaurants", tag=RESTAURANTS, routes=http.routes, subscriptions=[projector.subscription])
