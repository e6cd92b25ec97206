"""In-process event bus: wakes subscribers when events commit.

Subscribers pull committed events from the outbox themselves (each at its own
checkpoint), so the bus carries wake-ups, not payloads: a slow subscriber never
holds memory or blocks a fast one. In the committing process the wake-up is direct
(no poll delay); other processes are woken by one coalesced `NOTIFY` per burst of
commits, which they receive through `LISTEN`.
"""

from __future__ import annotations

import logging

import anyio

from app.infra.db import Connection, connect

log = logging.getLogger(__name__)

CHANNEL = "outbox_committed"


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
        self._notify_wanted = Wakeup()

    def subscribe(self, name: str) -> Wakeup:
        return self._subscribers.setdefault(name, Wakeup())

    def wake_all(self) -> None:
        for wakeup in self._subscribers.values():
            wakeup.set()

    def committed(self) -> None:
        """Call after a transaction that appended events has committed."""
        self.wake_all()
        self._notify_wanted.set()

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

        def on_notify(_c: object, pid: int, _channel: str, _payload: object) -> None:
            if pid != own_pid:
                self.wake_all()

        await conn.add_listener(CHANNEL, on_notify)
        # Events committed while we were not listening: look once.
        self.wake_all()
        while True:
            # Coalesced: any number of commits during one NOTIFY round trip cost one more.
            if await self._notify_wanted.wait(timeout=5.0):
                await conn.execute(f"NOTIFY {CHANNEL}")
            else:
                await conn.execute("SELECT 1")  # notice a dead connection while idle
