"""Subscriptions: ordered, exactly-once delivery of committed events to each subscriber.

* `spec`: what a subscription is (its name, its projection or reaction, schema, the event types it acts on).
* `checkpoint`: the checkpoint row, moved by compare-and-set in the transaction that
  applies a batch (or in the batch's one statement).
* `reads`: one read of the outbox shared by the subscriptions that want the same rows.
* `runner`: one subscription's loop: read, apply, retry, stall; never skip.
* `host`: which process runs which subscription (an advisory lock each), and supervision.
"""

from app.infra.subscriptions.checkpoint import (
    CheckpointMoved,
    apply_as_one_statement,
    apply_batch,
    apply_in_transaction,
    ensure_checkpoint,
)
from app.infra.subscriptions.host import LOCK_NAMESPACE, SubscriptionHost
from app.infra.subscriptions.reads import SharedReads
from app.infra.subscriptions.runner import Runner, RunnerStats, State
from app.infra.subscriptions.spec import Project, React, Subscription, UndecodableEvent

__all__ = [
    "LOCK_NAMESPACE",
    "CheckpointMoved",
    "Project",
    "React",
    "Runner",
    "RunnerStats",
    "SharedReads",
    "State",
    "Subscription",
    "SubscriptionHost",
    "UndecodableEvent",
    "apply_as_one_statement",
    "apply_batch",
    "apply_in_transaction",
    "ensure_checkpoint",
]
