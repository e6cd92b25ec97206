"""The accounting command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.accounting import process
from app.infra.modules import Module

module = Module("accounting", subscriptions=[process.subscription])
