"""Nothing grows forever: an Idempotency-Key is free again after IDEMPOTENCY_KEY_TTL_S, and
the purger removes expired keys and listener attempts past LISTENER_ATTEMPTS_RETENTION_S
(but a dead letter's, until it is redelivered), and a deleted listener's rows; the
listeners' stats keep counting what was removed, and /metrics says what the purger did."""

from __future__ import annotations

from typing import Any

from app import modules
from app.infra.db import Pool
from app.infra.purger import Purger
from harness.receiver import Receiver, receiving
from tests.commands.listeners.test_listeners import attempts, listener, register
from tests.conftest import settings_for
from tests.food import consumer, place, restaurant
from tests.helpers import eventually


async def test_an_idempotency_key_is_free_again_after_its_ttl(client: Any, pool: Pool) -> None:
    headers = {"Idempotency-Key": "room-key-ttl"}
    first = await client.post("/rooms", json={"name": "TTL room", "capacity": 2}, headers=headers)
    again = await client.post("/rooms", json={"name": "TTL room", "capacity": 2}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other_body = await client.post("/rooms", json={"name": "Another", "capacity": 2}, headers=headers)
    assert other_body.status_code == 409  # within the TTL: the key is taken
    # A day and a second later (the default TTL is 86,400 s)
    await pool.execute(
        "UPDATE command.idempotency_keys SET created_at = now() - interval '86401 seconds' WHERE key = 'room-key-ttl'"
    )
    after = await client.post("/rooms", json={"name": "Another", "capacity": 2}, headers=headers)
    assert after.status_code == 201 and after.json()["id"] != first.json()["id"] and after.json()["name"] == "Another"
    repeat = await client.post("/rooms", json={"name": "Another", "capacity": 2}, headers=headers)
    assert repeat.json()["id"] == after.json()["id"]  # the key is the new request's now


async def test_the_purger_removes_expired_keys_and_old_attempts_but_a_dead_letters(
    client: Any, pool: Pool, database_url: str
) -> None:
    ada, shop = await consumer(client, "Purge Ada"), await restaurant(client, "Purge Pizza")
    async with receiving() as ok, receiving(Receiver(answer=lambda n: 500)) as failing:
        kept = await register(client, ok, name="purged attempts")
        dying = await register(client, failing, name="dead letter")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _stats(client, kept["id"], "delivered", 1))
        await eventually(lambda: _stats(client, dying["id"], "dead_letters", 1), timeout=10)
    before = {h["id"]: (await listener(client, h["id"]))["stats"] for h in (kept, dying)}
    await client.post("/rooms", json={"name": "Old key", "capacity": 1}, headers={"Idempotency-Key": "old-key"})
    await pool.execute("UPDATE command.idempotency_keys SET created_at = now() - interval '2 days' WHERE key = 'old-key'")
    await pool.execute("UPDATE command.listener_deliveries SET at = now() - interval '31 days' WHERE listener_id = ANY($1::uuid[])",
                       [kept["id"], dying["id"]])  # fmt: skip
    purger = Purger(pool, database_url, modules.PURGES, settings_for(database_url))
    removed = await purger.purge_all()
    assert removed["idempotency_keys"] >= 1 and removed["listener_attempts"] >= 1
    assert await pool.fetchval("SELECT count(*) FROM command.idempotency_keys WHERE key = 'old-key'") == 0
    assert await attempts(client, kept["id"]) == []
    dead = await attempts(client, dying["id"])
    assert [a["status"] for a in dead][-1] == "dead" and len(dead) == 4  # kept while not redelivered
    for h in (kept, dying):  # the stats count what was removed
        assert (await listener(client, h["id"]))["stats"] == before[h["id"]]
    metrics = (await client.get("/metrics")).text
    assert f'purge_removed_total{{purge="listener_attempts"}} {removed["listener_attempts"]}' in metrics
    assert 'purge_last_run_timestamp_seconds{purge="idempotency_keys"}' in metrics

    # Redelivered, its attempts may go too; a deleted listener's rows go whatever their age.
    assert (await client.delete(f"/listeners/{dying['id']}")).status_code == 204
    removed = await purger.purge_all()
    assert removed["listener_attempts"] + removed["deleted_listeners_attempts"] == 4 and removed["deleted_listeners"] == 1
    assert await pool.fetchval("SELECT count(*) FROM command.listeners WHERE id = $1", dying["id"]) == 0
    assert await pool.fetchval("SELECT count(*) FROM command.listener_queue WHERE listener_id = $1", dying["id"]) == 0


async def _stats(client: Any, listener_id: str, field: str, value: int) -> bool:
    return bool((await listener(client, listener_id))["stats"][field] == value)


async def test_a_deleted_listeners_recent_attempts_go_with_it(client: Any, pool: Pool, database_url: str) -> None:
    ada, shop = await consumer(client, "Gone Ada"), await restaurant(client, "Gone Pizza")
    async with receiving() as ok:
        hook = await register(client, ok, name="deleted soon")
        await place(client, ada, shop["id"], [("marg", 1)])
        await eventually(lambda: _stats(client, hook["id"], "delivered", 1))
    assert (await client.delete(f"/listeners/{hook['id']}")).status_code == 204
    removed = await Purger(pool, database_url, modules.PURGES, settings_for(database_url)).purge_all()
    assert removed["deleted_listeners_attempts"] >= 1 and removed["deleted_listeners"] >= 1
    assert await pool.fetchval("SELECT count(*) FROM command.listener_deliveries WHERE listener_id = $1", hook["id"]) == 0
