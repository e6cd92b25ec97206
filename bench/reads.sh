#!/usr/bin/env bash
# Reads over HTTP at 64 concurrent clients (issue #4, item 4), with wrk (a C load generator
# in its own process, so the client costs the app's cores as little as possible):
# GET /consumers/{id}/orders?keywords=pizza,curry&status=APPROVAL_PENDING over the
# 1,000,000 orders of bench/order_history.py, and GET /restaurants/available among the
# 10,000 restaurants of bench/available_restaurants.py (run both first, same database).
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders bash bench/reads.sh [seconds] [connections]
#
# WORKERS=N runs `app serve --workers N`. Prints wrk's latency distribution for each, and the
# CPU time per request of the app and of PostgreSQL; PROFILE=1 also samples the app with py-spy.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-30}
CONNECTIONS=${2:-64}
PORT=${PORT:-8078}
: "${DATABASE_URL:?set DATABASE_URL to the database of bench/order_history.py}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
WORK=$(mktemp -d)
trap 'kill $APP 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Every subscription runs, caught up. The synthetic orders were written straight into the
# log with no command-side state behind them: the process managers and the views not under
# test are moved past them, else they would spend the whole run catching up on 1M fake
# orders (and the read figures would measure that instead).
# (Rows are made for the subscriptions that have none yet: on a fresh data set only the two
# views under test have one.)
NAMES=$(uv run python -c "from app.modules import SUBSCRIPTIONS; print(','.join(s.name for s in SUBSCRIPTIONS))")
psql "$DATABASE_URL" -v names="$NAMES" -q <<'SQL'
INSERT INTO command.subscriptions AS s (name, xid, id)
SELECT name, head.xid, head.id
FROM unnest(string_to_array(:'names', ',')) AS name,
     (SELECT xid, id FROM command.outbox ORDER BY xid DESC, id DESC LIMIT 1) AS head
WHERE name NOT IN ('order_history', 'available_restaurants')
ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, id = EXCLUDED.id
WHERE (s.xid, s.id) < (EXCLUDED.xid, EXCLUDED.id)
SQL
WORKERS=${WORKERS:-1} LOG_LEVEL=WARNING \
  AUTH_DISABLED=${AUTH_DISABLED:-true} uv run app serve --port "$PORT" >"$WORK/app.log" 2>&1 &
APP=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
psql "$DATABASE_URL" -Atc "SELECT md5('c' || i)::uuid FROM generate_series(0, 9999) i" >"$WORK/consumers.txt"
export CONSUMERS="$WORK/consumers.txt"

source bench/procs.sh

for READ in history available; do
  export READ
  wrk -t2 -c"$CONNECTIONS" -d5s -s bench/reads.lua "http://127.0.0.1:$PORT" >/dev/null  # warm-up
  echo "== $READ: $CONNECTIONS connections, ${SECONDS_RUN}s, WORKERS=${WORKERS:-1}"
  if [ -n "${PROFILE:-}" ]; then
    uvx py-spy record --subprocesses -p "$APP" -d $((SECONDS_RUN - 2)) -r 200 -f raw -o "$WORK/stacks-$READ.txt" >/dev/null 2>&1 &
    SPY=$!
  fi
  APP0=$(cpu_of "$APP"); PG0=$(pg_cpu)
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s bench/reads.lua "http://127.0.0.1:$PORT" >"$WORK/wrk.txt"
  APP1=$(cpu_of "$APP"); PG1=$(pg_cpu)
  grep -E "Latency|50%|75%|90%|99%|Requests/sec|Non-2xx|requests in" "$WORK/wrk.txt"
  awk -v a="$(((APP1 - APP0) * 1000 / TICKS))" -v p="$(((PG1 - PG0) * 1000 / TICKS))" '/requests in/ {
    printf "  CPU per request: app %.3f ms, PostgreSQL %.3f ms\n", a / $1, p / $1 }' "$WORK/wrk.txt"
  if [ -n "${PROFILE:-}" ]; then wait "$SPY"; uv run python -m bench.stacks "$WORK/stacks-$READ.txt" --top 30; fi
done
