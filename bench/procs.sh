# Sourced by the bench scripts: CPU time (utime + stime, in clock ticks) of a process tree
# and of PostgreSQL's processes. On a shared 2-core VM latency swings from run to run; CPU
# per request much less, so the scripts report both.
TICKS=$(getconf CLK_TCK)
tree() { echo "$1"; for child in $(pgrep -P "$1"); do tree "$child"; done; }
ticks_of() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
cpu_of() { ticks_of $(tree "$1"); }
pg_cpu() { ticks_of $(pgrep -x postgres); }
