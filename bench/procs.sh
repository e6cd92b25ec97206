# Sourced by the bench scripts: CPU time (utime + stime, in clock ticks) of a process tree
# and of PostgreSQL's processes. On a shared 2-core VM latency swings from run to run; CPU
# per request much less, so the scripts report both.
TICKS=$(getconf CLK_TCK)
tree() { echo "$1"; for child in $(pgrep -P "$1"); do tree "$child"; done; }
ticks_of() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
cpu_of() { ticks_of $(tree "$1"); }
# Every PostgreSQL process's, including backends that exited meanwhile (pgbench's): their
# time is in their postmaster's cutime + cstime once it has reaped them.
pg_cpu() {
  local pids=$(pgrep -x postgres | paste -sd,)
  [ -n "$pids" ] || { echo 0; return; }
  ps -o pid=,ppid= -p "$pids" | while read -r pid ppid; do
    awk -v postmaster="$(pgrep -x postgres | grep -qx "$ppid" || echo 1)" \
      '{print $14 + $15 + (postmaster ? $16 + $17 : 0)}' "/proc/$pid/stat" 2>/dev/null
  done | awk '{s += $1} END {print s + 0}'
}
