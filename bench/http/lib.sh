# bench/http/lib.sh: what bench/http/run.sh and bench/xmlrpc/run.sh
# share: CPU pinning, the median and spread of rounds, and how busy the
# server's CPU was during a measurement. Sourced, not run.
#
# The modes:
#   pinned  the load generator on CPU LOAD_CPU (0), every server under
#           test on CPU SERVER_CPU (1), one worker each (nginx
#           worker_processes 1, plumb GOMAXPROCS=1). The fair one: the
#           client cannot take CPU from the server it measures, and
#           every server gets the same single CPU, whatever its threads.
#   shared  no pinning: client and server on all CPUs, nginx one worker
#           per CPU, plumb GOMAXPROCS at its default. How a box running
#           both behaves, but the scheduler splits the CPUs between
#           client and server differently for each server (Go's runtime
#           spins idle threads, nginx's workers block), so it measures
#           the split as much as the server.

# pin_check: pinned mode needs two CPUs and taskset.
pin_check() {
  command -v taskset >/dev/null || die "taskset is needed for MODE=pinned (util-linux)"
  [ "$(nproc --all)" -ge 2 ] || die "MODE=pinned needs two CPUs; use MODE=shared"
}

# use_mode MODE: sets the command prefixes of MODE: "${SRV[@]}" CMD runs
# CMD as a server under test (so that $! is its pid), "${CLI[@]}" CMD
# as the load generator.
use_mode() {
  if [ "$1" = pinned ]; then
    SRV=(taskset -c "$SERVER_CPU") CLI=(taskset -c "$LOAD_CPU")
  else
    SRV=(env) CLI=(env)
  fi
}

# client_threads MODE: wrk's threads (one per CPU the client has).
client_threads() { if [ "$1" = pinned ]; then echo 1; else nproc; fi; }

# tree PID: PID and all its descendants (nginx's workers).
tree() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" 2>/dev/null || true); do tree "$c"; done
}

# proc_cpu PID: the CPU time so far of PID and its descendants, in
# clock ticks, and the wall clock, for cpu_used.
proc_cpu() {
  local p t=0 v
  for p in $(tree "$1"); do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t $(date +%s.%N)"
}

# cpu_used "TICKS0 WALL0" "TICKS1 WALL1": the CPUs a process used between
# two proc_cpu (1.00: one CPU all the time).
cpu_used() {
  awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(a, x, " "); split(b, y, " ");
    w = y[2] - x[2]; if (w > 0) printf "%.2f", (y[1] - x[1]) / hz / w; else print "-" }'
}

# per_unit CPUS RATE: the server's CPU time per request (or per MB), in
# microseconds: a cost that holds even when other load on the machine
# takes CPU from the server.
per_unit() { awk -v c="$1" -v r="$2" 'BEGIN { if (r > 0 && c != "-") printf "%.1f", c * 1e6 / r; else print "-" }'; }

# median "V1 V2 ...": the median of the values.
median() {
  tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# spread "V1 V2 ...": "min–max" of the values and the range as a
# percentage of the median.
spread() {
  tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s–%s (±%.0f%%)", v[1], v[NR], (m > 0 ? 50 * (v[NR] - v[1]) / m : 0) }'
}

# ratio A B: A / B as "0.00×", or "-".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f×", a / b; else print "-" }'; }

# freeport: a TCP port free on 127.0.0.1 just now.
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# waitport PORT: waits up to 10 s for something to listen on PORT.
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
