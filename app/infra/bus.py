"""In-process event bus: wakes subscribers when events they act on commit.

Subscribers pull committed events from the outbox themselves (each at its own
checkpoint), so the bus carries wake-ups, not payloads: a slow subscriber never
holds memory or blocks a fast one. A commit wakes only the subscribers interested in
the event types it appended (the others would read and pass over them; they catch up
at their next wake-up, idle poll, or when a reader waits for their position). In the
committing process the wake-up is direct (no poll delay); other processes are woken
by one coalesced `NOTIFY` per burst of commits, whose payload names the event types
(and the subscriptions a reader asked to catch up).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import anyio

from app.infra.db import Connection, connect

log = logging.getLogger(__name__)

CHANNEL = "outbox_committed"
_PAYLOAD_LIMIT = 7000  # NOTIFY payloads must stay under 8000 bytes
_POKE = "!"  # payload item "!name": wake that subscription, whatever it is interested in


class Wakeup:
    """A level-triggered signal: `set` before or during `wait` is never lost."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None = None) -> bool:
        """True when set (and re-armed), False on timeout."""
        with anyio.move_on_after(timeout):
            await self._event.wait()
            # Re-arm before the caller reads, so a commit after this point wakes again.
            self._event = anyio.Event()
            return True
        return False


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, Wakeup] = {}
        self._interests: dict[str, frozenset[str] | None] = {}
        self._notify_wanted = Wakeup()
        self._pending: set[str] = set()
        # Counts the commits heard of (here or, by NOTIFY, elsewhere): a read of the
        # outbox made at generation g may miss rows only if the generation moved on.
        self.generation = 0

    def subscribe(self, name: str, interest: Collection[str] | None = None) -> Wakeup:
        """`interest`: the event types that wake this subscriber (None: every commit)."""
        self._interests[name] = frozenset(interest) if interest else None
        return self._subscribers.setdefault(name, Wakeup())

    def wake_all(self) -> None:
        for wakeup in self._subscribers.values():
            wakeup.set()

    def _wake_interested(self, types: Collection[str]) -> None:
        for name, wakeup in self._subscribers.items():
            interest = self._interests.get(name)
            if interest is None or not interest.isdisjoint(types):
                wakeup.set()

    def committed(self, types: Collection[str] | None = None) -> None:
        """Call after a transaction that appended events (of `types`; None: unknown) committed."""
        self.generation += 1
        if types is None:
            self.wake_all()
        else:
            self._wake_interested(types)
        self._pending.update(types if types is not None else {""})
        self._notify_wanted.set()

    def poke(self, name: str) -> None:
        """Make subscription `name` look at the outbox now, in whichever process runs it."""
        if name in self._subscribers:
            self._subscribers[name].set()
        self._pending.add(_POKE + name)
        self._notify_wanted.set()

    def _on_payload(self, payload: str) -> None:
        self.generation += 1
        items = set(payload.split(",")) if payload else {""}
        if "" in items:
            self.wake_all()
            return
        for item in items:
            if item.startswith(_POKE) and item[1:] in self._subscribers:
                self._subscribers[item[1:]].set()
        self._wake_interested(items)

    async def run_bridge(self, database_url: str) -> None:
        """LISTEN for other processes' commits and NOTIFY them of ours, until cancelled."""
        while True:
            try:
                conn = await connect(database_url)
            except (OSError, Exception) as exc:
                log.warning("event bus bridge cannot connect: %s", exc)
                await anyio.sleep(1.0)
                continue
            try:
                await self._bridge(conn)
            except Exception as exc:
                log.warning("event bus bridge lost its connection: %s", exc)
                await anyio.sleep(0.5)
            finally:
                with anyio.CancelScope(shield=True):
                    await conn.close(timeout=2)

    async def _bridge(self, conn: Connection) -> None:
        own_pid = conn.get_server_pid()

        def on_notify(_c: object, pid: int, _channel: str, payload: object) -> None:
            if pid != own_pid:
                self._on_payload(str(payload))

        await conn.add_listener(CHANNEL, on_notify)
        # Events committed while we were not listening: look once.
        self.wake_all()
        while True:
            # Coalesced: any number of commits during one NOTIFY round trip cost one more.
            if await self._notify_wanted.wait(timeout=5.0):
                pending, self._pending = self._pending, set()
                payload = ",".join(sorted(pending))
                if "" in pending or len(payload) > _PAYLOAD_LIMIT:
                    payload = ""
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            else:
                await conn.execute("SELECT 1")  # notice a dead connection while idle
