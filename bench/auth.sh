#!/usr/bin/env bash
# The cost of checking bearer tokens on the hot path (issue 14): bench/throughput.sh for
# POST /reservations with auth off (AUTH_DISABLED=true) and on (an HS256 admin token on
# every request), alternated in one sitting on one database (the app alone, no pgbench
# run); prints each run's req/s and the ratio on/off of the means and of the medians. Target: on >= 0.90 x off.
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_auth bash bench/auth.sh [rounds] [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SECONDS_RUN=${2:-30}
CONNECTIONS=${3:-32}
: "${DATABASE_URL:?set DATABASE_URL to a database this benchmark may fill (it is migrated)}"
declare -A RPS=([off]="" [on]="")
for round in $(seq "$ROUNDS"); do
  for auth in off on; do
    rps=$(AUTH=$auth PGBENCH=0 bash bench/throughput.sh "$SECONDS_RUN" "$CONNECTIONS" | awk '/^app .* req\/s/ {print $2}')
    echo "round $round, auth $auth: $rps req/s"
    RPS[$auth]="${RPS[$auth]} $rps"
  done
done
python3 - "${RPS[off]}" "${RPS[on]}" <<'PY'
import statistics, sys
off, on = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
print(f"auth off: mean {statistics.mean(off):.0f}, median {statistics.median(off):.0f} req/s {off}")
print(f"auth on:  mean {statistics.mean(on):.0f}, median {statistics.median(on):.0f} req/s {on}")
print(f"on / off: {statistics.mean(on) / statistics.mean(off):.3f} of the means, "
      f"{statistics.median(on) / statistics.median(off):.3f} of the medians (target >= 0.90)")
PY
