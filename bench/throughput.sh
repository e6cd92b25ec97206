#!/usr/bin/env bash
# Command throughput against the database's own limit (issue #4, item 1).
#
# Drives POST /reservations (COMMAND=orders: POST /orders) over HTTP with wrk (distinct
# bodies from a Lua script) and, in the same run, the very SQL transaction the handler
# executes with pgbench, at the same concurrency; prints requests/s, latency percentiles,
# the app/pgbench ratio, and the subscriptions' lag before and after (it must not grow).
# Each order also runs the whole saga (payment, kitchen ticket, state changes) through the
# process managers, and both order views: all of that must keep up too.
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_tp bash bench/throughput.sh [seconds] [connections]
#   COMMAND=orders DATABASE_URL=... bash bench/throughput.sh [seconds] [connections]
#
# WORKERS=N runs `app serve --workers N` (N replicas on one port; default 1).
#
# PGBENCH=0 leaves out the pgbench run (prints only the app's req/s).
#
# AUTH=on checks a bearer token (HS256, an admin's) on every request; AUTH=off (the
# default) serves with AUTH_DISABLED=true. bench/auth.sh alternates the two.
#
# PROFILE=1 (PROFILE_OUT=file keeps the stacks) also samples the app with py-spy during the wrk run and prints the functions
# with the largest share of samples (bench/stacks.py). CPU seconds used by the app and by
# the whole machine during the wrk run are printed too: where the two cores went.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-60}
CONNECTIONS=${2:-32}
PORT=${PORT:-8077}
COMMAND=${COMMAND:-reservations}
case "$COMMAND" in reservations | orders) ;; *) echo "COMMAND must be reservations or orders"; exit 2 ;; esac
: "${DATABASE_URL:?set DATABASE_URL to a database this benchmark may fill (it is migrated)}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || { echo "pgbench is needed (Debian: postgresql-client)"; exit 1; }
WORK=$(mktemp -d)
# The pgbench rows are not real events (subscribers cannot decode them): never leave any.
forget_pgbench() {
  psql "$DATABASE_URL" -qc "DELETE FROM command.outbox WHERE payload ? 'pgbench'; DELETE FROM command.reservations WHERE user_id = 'pgbench';
    DELETE FROM command.orders WHERE delivery_address = 'pgbench'" >/dev/null 2>&1 || true
  # Else the next run's app reads step over their dead index entries until autovacuum comes.
  psql "$DATABASE_URL" -qc "VACUUM (ANALYZE) command.outbox, command.reservations, command.orders" >/dev/null 2>&1 || true
}
trap 'kill $APP 2>/dev/null || true; forget_pgbench; rm -rf "$WORK"' EXIT
forget_pgbench  # left by an interrupted run

uv run app migrate >/dev/null
if [ "${AUTH:-off}" = on ]; then
  export AUTH_DISABLED=false AUTH_JWT_SECRET="bench-secret-$(date +%s%N)-of-at-least-32-bytes"
  AUTHORIZATION="Bearer $(uv run app token --sub bench --role admin --ttl $((SECONDS_RUN + 3600)))"
else
  export AUTH_DISABLED=true AUTHORIZATION=""
fi
export AUTHORIZATION
WORKERS=${WORKERS:-1} RUN_SUBSCRIPTIONS=true LOG_LEVEL=WARNING \
  uv run app serve --port "$PORT" >"$WORK/app.log" 2>&1 &
APP=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/health/ready" >/dev/null && break; sleep 0.2; done

post() { curl -sf -XPOST "localhost:$PORT$1" -H 'content-type: application/json' -H "Authorization: $AUTHORIZATION" -d "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
# Summed lag of every subscription, from /metrics ("?" if it did not answer: never a silent 0).
lag() {
  local metrics
  metrics=$(curl -sf --max-time 30 "localhost:$PORT/metrics") || { echo "?"; return; }
  awk '/^subscription_lag_events/ {s += $2} END {print s + 0}' <<<"$metrics"
}

# The tail of a command's one statement: its event appended to the outbox, as outbox.append
# does it; the payload marks it as pgbench's, for forget_pgbench.
append_event() {
  cat <<SQL
INSERT INTO command.outbox (event_id, type, version, stream_id, payload)
  SELECT * FROM unnest(ARRAY[gen_random_uuid()], ARRAY['$1'], ARRAY[1], ARRAY[gen_random_uuid()::text],
                       ARRAY[jsonb_build_object('type', '$1', 'pgbench', true)])
  RETURNING xid, id;
SQL
}

if [ "$COMMAND" = reservations ]; then
  # 100 rooms for the app run: bench/reserve.lua reserves them at random periods.
  export ROOMS=$(for i in $(seq 100); do
    curl -sf -XPOST "localhost:$PORT/rooms" -H 'content-type: application/json' -H "Authorization: $AUTHORIZATION" \
      -d "{\"name\":\"tp-$i\",\"capacity\":1}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
  done | paste -sd,)

  # (Periods are distinct per client and transaction: a conflict would abort a pgbench client.)
  # The handler's transaction, statement for statement (see app/commands/reservations): one
  # statement, prepared (-M prepared), as asyncpg prepares it.
  cat >"$WORK/command.sql" <<'SQL'
\set i :i + 1
\set n :i * 10000 + :client_id
\set r random(1, 100)
WITH written AS (
  INSERT INTO command.reservations (id, room_id, user_id, period, status, version, created_at, updated_at)
  VALUES (gen_random_uuid(), md5('tp-room-' || :r)::uuid, 'pgbench',
          tstzrange(timestamptz '2100-01-01' + :n * interval '1 minute',
                    timestamptz '2100-01-01' + :n * interval '1 minute' + interval '30 seconds', '[)'),
          'active', 1, now(), now()))
SQL
  append_event reservations.reservation_registered >>"$WORK/command.sql"
  psql "$DATABASE_URL" -qc "INSERT INTO command.rooms (id, name, capacity, created_at)
    SELECT md5('tp-room-' || i)::uuid, 'pgbench-' || i, 1, now() FROM generate_series(1, 100) i ON CONFLICT DO NOTHING" >/dev/null
  LUA=bench/reserve.lua
else
  # 100 consumers and 20 restaurants for the app run (bench/order.lua orders from them at
  # random), and as many of pgbench's own straight in the orders module's tables.
  export CONSUMERS=$(for i in $(seq 100); do post /consumers "{\"name\":\"tp-$i\"}"; done | paste -sd,)
  export RESTAURANTS=$(for i in $(seq 20); do
    post /restaurants "{\"name\":\"tp-$i\",\"address\":\"tp\",\"lat\":48.85,\"lon\":2.35,\"delivery_radius_km\":5,
      \"opening_hours\":[],\"menu\":[{\"id\":\"m1\",\"name\":\"Margherita\",\"price\":\"9.50\"},{\"id\":\"m2\",\"name\":\"Salad\",\"price\":\"4.00\"}]}"
  done | paste -sd,)
  # The handler's statements (see app/commands/orders): what it reads (consumer known,
  # restaurant's menu) in one statement, then the order and its event in one statement;
  # prepared, as asyncpg does.
  cat >"$WORK/command.sql" <<'SQL'
\set c random(1, 100)
\set r random(1, 20)
SELECT EXISTS (SELECT 1 FROM command.order_consumers WHERE id = md5('tp-consumer-' || :c)::uuid) AS consumer_known,
       r.name, r.menu
FROM (SELECT 1) AS one LEFT JOIN command.order_restaurants r ON r.id = md5('tp-restaurant-' || :r)::uuid;
WITH written AS (
  INSERT INTO command.orders (id, consumer_id, restaurant_id, line_items, total, delivery_address,
      state, version, created_at, updated_at)
  VALUES (gen_random_uuid(), md5('tp-consumer-' || :c)::uuid, md5('tp-restaurant-' || :r)::uuid,
      '[{"menu_item_id": "m1", "name": "Margherita", "price": "9.50", "quantity": 1}, {"menu_item_id": "m2", "name": "Salad", "price": "4.00", "quantity": 2}]',
      17.50, 'pgbench', 'APPROVAL_PENDING', 1, now(), now()))
SQL
  append_event orders.order_placed >>"$WORK/command.sql"
  psql "$DATABASE_URL" -qc "
    INSERT INTO command.order_consumers (id) SELECT md5('tp-consumer-' || i)::uuid FROM generate_series(1, 100) i ON CONFLICT DO NOTHING;
    INSERT INTO command.order_restaurants (id, name, menu, menu_revision)
      SELECT md5('tp-restaurant-' || i)::uuid, 'pgbench-' || i,
             '[{\"id\": \"m1\", \"name\": \"Margherita\", \"price\": \"9.50\"}, {\"id\": \"m2\", \"name\": \"Salad\", \"price\": \"4.00\"}]', 1
      FROM generate_series(1, 20) i ON CONFLICT DO NOTHING" >/dev/null
  LUA=bench/order.lua
fi

SERVER=$(pgrep -f "app serve --port $PORT" | tail -1)
source bench/procs.sh
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
echo "== app: POST /$COMMAND, $CONNECTIONS connections, ${SECONDS_RUN}s (lag before: $(lag) events)"
if [ -n "${PROFILE:-}" ]; then
  uvx py-spy record --subprocesses -p "$SERVER" -d $((SECONDS_RUN - 2)) -r 200 -f raw -o "${PROFILE_OUT:-$WORK/stacks.txt}" >/dev/null 2>&1 &
  SPY=$!
fi
APP_CPU0=$(cpu_of "$SERVER"); BUSY0=$(busy); PG0=$(pg_cpu)
# The subscriptions' lag every 10 s while the load runs: it must not grow.
(for _ in $(seq $((SECONDS_RUN / 10))); do sleep 10; echo -n " $(lag)"; done >"$WORK/lag.txt") &
LAGS=$!
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$LUA" "http://127.0.0.1:$PORT" | tee "$WORK/wrk.txt"
APP_TICKS=$(( $(cpu_of "$SERVER") - APP_CPU0 )); PG_TICKS=$(( $(pg_cpu) - PG0 )); ALL_TICKS=$(( $(busy) - BUSY0 ))
echo "cpu seconds during the run: app $((APP_TICKS / TICKS)), PostgreSQL $((PG_TICKS / TICKS)), all processes $((ALL_TICKS / TICKS)) (of $((2 * SECONDS_RUN)))"
if [ -n "${PROFILE:-}" ]; then wait "$SPY"; uv run python -m bench.stacks "${PROFILE_OUT:-$WORK/stacks.txt}" --top 30; fi
wait "$LAGS"
echo "lag (events) every 10 s during the run:$(cat "$WORK/lag.txt"); right after: $(lag); 5 s later: $(sleep 5; lag)"
kill $APP; wait $APP 2>/dev/null || true

if [ "${PGBENCH:-1}" = 0 ]; then  # the app's figure only (bench/auth.sh compares two app runs)
  echo "app $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt") req/s"
  exit 0
fi
# The pgbench rows are not real events: take them out of the log again afterwards.
echo "== pgbench: the same transaction, $CONNECTIONS clients, ${SECONDS_RUN}s"
BUSY0=$(busy); PG0=$(pg_cpu)
pgbench -n -D i=0 -M prepared -c"$CONNECTIONS" -j2 -T"$SECONDS_RUN" -f "$WORK/command.sql" "$DATABASE_URL" | tee "$WORK/pgbench.txt"
BENCH_PG_TICKS=$(( $(pg_cpu) - PG0 )); BENCH_ALL_TICKS=$(( $(busy) - BUSY0 ))
forget_pgbench

APP_RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
PG_TPS=$(awk '/^tps = / {print $3; exit}' "$WORK/pgbench.txt")
python3 - "$APP_RPS" "$PG_TPS" "$SECONDS_RUN" "$TICKS" "$APP_TICKS" "$PG_TICKS" "$ALL_TICKS" "$BENCH_PG_TICKS" "$BENCH_ALL_TICKS" <<'PY'
import sys
rps, tps, seconds, ticks = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
app, pg, machine, bench_pg, bench_machine = (int(t) / ticks * 1000 for t in sys.argv[5:])
print(f"app {rps:.0f} req/s, pgbench {tps:.0f} tps, ratio {rps / tps:.2f}")
# Where the two cores went, per request and per pgbench transaction (CPU ms): the ratio can
# reach 0.5 only if a request costs at most twice what a pgbench transaction costs.
per_req, per_txn = rps * seconds, tps * seconds
print(f"cpu ms per request: app {app / per_req:.3f}, PostgreSQL {pg / per_req:.3f}, whole machine {machine / per_req:.3f}")
print(f"cpu ms per pgbench transaction: PostgreSQL {bench_pg / per_txn:.3f}, whole machine {bench_machine / per_txn:.3f}")
PY
