#!/usr/bin/env bash
# The write path of two revisions side by side: bench/throughput.sh (PGBENCH=0) from a
# worktree of each, alternated A, B, A, B..., each run on a fresh database; prints every
# run's req/s and the ratio of the means (B / A). The check that a change did not cost the
# commands: `bash bench/compare.sh HEAD~1` compares a commit with its parent.
#
#   SERVER_URL=postgresql://postgres@127.0.0.1:5432/postgres bash bench/compare.sh REV_A [REV_B] [rounds] [seconds] [connections]
#   COMMAND=orders bash bench/compare.sh ...            (POST /orders instead of POST /reservations)
#
# REV_B defaults to HEAD, rounds to 2, seconds to 20, connections to 32.
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?usage: bench/compare.sh REV_A [REV_B] [rounds] [seconds] [connections]}
B=${2:-HEAD}
ROUNDS=${3:-2}
SECONDS_RUN=${4:-20}
CONNECTIONS=${5:-32}
SERVER_URL=${SERVER_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d)
cleanup() {
  git worktree remove --force "$WORK/a" 2>/dev/null || true
  git worktree remove --force "$WORK/b" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
git worktree add --detach --quiet "$WORK/a" "$A"
git worktree add --detach --quiet "$WORK/b" "$B"
for side in a b; do (cd "$WORK/$side" && uv sync --frozen --quiet); done

run() {  # run SIDE: its req/s on a fresh database
  local db="bench_compare_$1_$(date +%s%N)"
  psql "$SERVER_URL" -qc "CREATE DATABASE $db" >/dev/null
  local rps
  rps=$(cd "$WORK/$1" && DATABASE_URL="${SERVER_URL%/*}/$db" PGBENCH=0 PORT=${PORT:-8077} \
    bash bench/throughput.sh "$SECONDS_RUN" "$CONNECTIONS" 2>/dev/null | awk '/^app .* req\/s$/ {print $2}')
  psql "$SERVER_URL" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
  echo "${rps:-0}"
}

echo "== POST /${COMMAND:-reservations}: A=$(git rev-parse --short "$A") B=$(git rev-parse --short "$B"), $ROUNDS rounds of ${SECONDS_RUN}s at $CONNECTIONS connections"
A_RUNS=()
B_RUNS=()
for round in $(seq "$ROUNDS"); do
  a=$(run a); b=$(run b)
  A_RUNS+=("$a"); B_RUNS+=("$b")
  echo "round $round: A $a req/s, B $b req/s"
done
python3 - "${A_RUNS[*]}" "${B_RUNS[*]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
print(f"mean: A {statistics.mean(a):,.0f} req/s, B {statistics.mean(b):,.0f} req/s; B/A = {statistics.mean(b) / statistics.mean(a):.3f}")
PY
