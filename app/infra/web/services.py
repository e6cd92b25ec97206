"""What every request handler is given: one bag of the process's services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from litestar.di import NamedDependency

from app.config import Settings
from app.infra.auth import Tokens
from app.infra.bus import EventBus
from app.infra.clock import Clock
from app.infra.consistency import ViewPositions
from app.infra.db import Pool
from app.infra.metrics import Histogram, Metrics
from app.infra.standbys import Standbys
from app.infra.subscriptions import Subscription, SubscriptionHost


class Timed(Protocol):
    """A background worker whose latency /metrics shows (the listeners' dispatch)."""

    latency: Histogram


@dataclass
class Services:
    """This process's shared parts, built once by the app's lifespan: the pool and the bus,
    the clock, read-your-writes waits, metrics, the settings, every module's subscriptions,
    and the workers it runs (the subscription host, the listeners' dispatcher), token
    checking and standbys when configured."""

    pool: Pool
    bus: EventBus
    clock: Clock
    positions: ViewPositions
    metrics: Metrics
    database_url: str
    head_revision: str
    settings: Settings
    subscriptions: Sequence[Subscription] = ()  # every module's (app/modules.py)
    host: SubscriptionHost | None = None
    dispatcher: Timed | None = None  # None: this process runs no subscriptions
    tokens: Tokens | None = None  # None: auth is off, every caller is an admin
    standbys: Standbys | None = None  # None: views are read on the primary


ServicesDep = NamedDependency[Services]
