# tests/integration/netlib.sh: helpers of the network tests (sourced after lib.sh).
# shellcheck shell=bash
#
#   free_port tcp|udp       a port free on 127.0.0.1 and 0.0.0.0 now, found by binding, below
#                           the ephemeral range (32768+), from an offset per user so that
#                           the test users do not race for the same ports
#   arm_waiter FILE PID...  open a pidfd on each PID now (they must be alive), then wait in
#                           the background until every one has ended (a zombie has ended);
#                           FILE gets "armed", then "all-ended" or "alive: PIDS" after 20 s
#   waiter_result FILE      wait (30 s at most) for the waiter's verdict; prints it
#   kids PID                the pids of PID's children

free_port() {
  python3 - "$1" "$(id -u)" <<'EOF'
import socket, sys
kind, uid = sys.argv[1], int(sys.argv[2])
start = 20000 + (uid % 97) * 100
for p in list(range(start, 32000)) + list(range(20000, start)):
    ok = True
    for addr in ("0.0.0.0", "127.0.0.1"):
        for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, t)
            try:
                s.bind((addr, p))
            except OSError:
                ok = False
            finally:
                s.close()
    if ok:
        print(p)
        sys.exit(0)
sys.exit(1)
EOF
}

arm_waiter() {
  local file=$1
  shift
  : >"$file"
  python3 - "$file" "$@" <<'EOF' &
import os, select, sys, time
out, pids = sys.argv[1], [int(p) for p in sys.argv[2:]]
fds = {}
for p in pids:
    try:
        fds[p] = os.pidfd_open(p)
    except ProcessLookupError:
        pass  # already gone (and reaped): ended
with open(out, "w") as f:
    f.write("armed\n")
end = time.monotonic() + 60
while fds and time.monotonic() < end:
    r, _, _ = select.select(list(fds.values()), [], [], 0.1)
    for p in [p for p, fd in fds.items() if fd in r]:
        del fds[p]
with open(out, "w") as f:
    f.write("all-ended\n" if not fds else "alive: " + " ".join(map(str, fds)) + "\n")
EOF
  poll 60 grep -q armed "$file"
}

waiter_result() {
  poll 90 grep -qE 'all-ended|alive' "$1"
  cat "$1"
}

kids() {
  pgrep -P "$1" | tr '\n' ' '
}
