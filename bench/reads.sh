#!/usr/bin/env bash
# Reads over HTTP at 64 concurrent clients (issue #4, item 4), with wrk (a C load generator
# in its own process, so the client costs the app's cores as little as possible):
# GET /consumers/{id}/orders?keywords=pizza,curry&status=APPROVAL_PENDING over the
# 1,000,000 orders of bench/order_history.py, and GET /restaurants/available among the
# 10,000 restaurants of bench/available_restaurants.py (run both first, same database).
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders bash bench/reads.sh [seconds] [connections]
#
# WORKERS=N runs `app serve --workers N`. Prints wrk's latency distribution for each.
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
psql "$DATABASE_URL" -qc "
  UPDATE command.subscriptions s SET xid = head.xid, id = head.id
  FROM (SELECT xid, id FROM command.outbox ORDER BY xid DESC, id DESC LIMIT 1) head
  WHERE s.name NOT IN ('order_history', 'available_restaurants') AND (s.xid, s.id) < (head.xid, head.id)"
WORKERS=${WORKERS:-1} LOG_LEVEL=WARNING DB_POOL_MAX_SIZE=${DB_POOL_MAX_SIZE:-20} \
  uv run app serve --port "$PORT" >"$WORK/app.log" 2>&1 &
APP=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
psql "$DATABASE_URL" -Atc "SELECT md5('c' || i)::uuid FROM generate_series(0, 9999) i" >"$WORK/consumers.txt"
export CONSUMERS="$WORK/consumers.txt"

for READ in history available; do
  export READ
  wrk -t2 -c"$CONNECTIONS" -d5s -s bench/reads.lua "http://127.0.0.1:$PORT" >/dev/null  # warm-up
  echo "== $READ: $CONNECTIONS connections, ${SECONDS_RUN}s, WORKERS=${WORKERS:-1}"
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s bench/reads.lua "http://127.0.0.1:$PORT" |
    grep -E "Latency|50%|75%|90%|99%|Requests/sec|Non-2xx|requests in"
done
