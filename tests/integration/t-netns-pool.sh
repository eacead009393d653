#!/usr/bin/env bash
# t-netns-pool.sh: `--network none` runs in the kept user namespace take a network namespace
# made ahead by the user's pool server (sandbox/netns_pool.c, nook-netpool): one of the
# namespaces it held, fresh for each container (two alive together differ), lo up, the
# container's root with its capabilities there (ping), /sys showing its interfaces; the
# server holds nothing of the store and ends with its keeper; an answer that is not a
# network namespace of the run's user namespace, or no answer, is refused and the run makes
# its own; NOOK_NETNS_POOL=0 turns it off. Without a range, such runs as root join the
# user namespace kept for networks (other -u values keep a namespace of their own).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# pool_pid: this user's live pool server in the kept user namespace (nothing when none)
pool_pid() {
  local k p ns
  k=$(keeper_pid "$NOOK")
  [ -n "$k" ] || return 0
  ns=$(readlink "/proc/$k/ns/user" 2>/dev/null) || return 0
  for p in $(pgrep -u "$(id -u)" -x nook-netpool 2>/dev/null); do
    pid_ended "$p" && continue # (a zombie: this machine's PID 1 reaps late)
    [ "$(readlink "/proc/$p/ns/user" 2>/dev/null)" = "$ns" ] && echo "$p" && return 0
  done
  return 0
}
# spares PID: the network namespaces the server holds, one a line
spares() {
  local f l
  for f in /proc/"$1"/fd/*; do
    l=$(readlink "$f" 2>/dev/null) || continue
    case "$l" in net:\[*) echo "$l" ;; esac
  done
  return 0
}
spares_are() { [ "$(spares "$1" | wc -l)" = "$2" ]; }
have_pool() { [ -n "$(pool_pid)" ]; }

check_status "a --network none run works (and starts the pool)" 0 run --rm --network none busybox true
wait_until "the pool server started" 10 have_pool
pp=$(pool_pid)
wait_until "the pool holds two network namespaces" 10 spares_are "$pp" 2
held=$(spares "$pp")

# The next container's namespace is one the pool held (alive all along: held, then the
# container's), lo is up, the container's root may use raw sockets there.
nrun run --rm --network none busybox sh -c \
  'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags; ls /sys/class/net; ping -c 1 -W 5 127.0.0.1 >/dev/null && echo ping-ok'
check_eq "the run works" 0 "$RC"
mine=$(sed -n 1p <<<"$OUT")
if grep -qxF -- "$mine" <<<"$held"; then ok "its network namespace is one the pool held"
else fail "its network namespace is one the pool held" "$mine, held: $held"; fi
check_eq "lo is up (IFF_UP|IFF_LOOPBACK)" "0x9" "$(sed -n 2p <<<"$OUT")"
check_eq "/sys shows its own interfaces: lo only" "lo" "$(sed -n 3p <<<"$OUT")"
check_eq "the container's root may ping in it (raw sockets: capabilities there)" "ping-ok" "$(sed -n 4p <<<"$OUT")"
[ "$mine" != "$(readlink /proc/self/ns/net)" ] && ok "its namespace is not the host's" ||
  fail "its namespace is not the host's" "$mine"

# Two containers alive together have two namespaces.
gate=$(make_gate pool-gate)
a=$T_SCRATCH/pool-a
"$NOOK" run --rm --network none -v "$T_SCRATCH:/sync" busybox sh -c \
  'readlink /proc/self/ns/net; read -r _ </sync/pool-gate' >"$a" 2>"$a.err" </dev/null &
apid=$!
if wait_until "the first container printed its namespace" 60 test -s "$a"; then
  nrun run --rm --network none busybox readlink /proc/self/ns/net
  check_eq "the second live container works" 0 "$RC"
  check_match "two live containers: two network namespaces" '^net:\[[0-9]+\]$' "$OUT"
  [ "$OUT" != "$(cat "$a")" ] && ok "they differ" || fail "they differ" "both $OUT"
  open_gate "$gate"
fi
wait "$apid"
check_eq "the first container ends (0)" 0 "$?"

# The server: no fd of the store, stdio on /dev/null, cwd /, a name of its own.
pp=$(pool_pid)
store_fds=$(for f in /proc/"$pp"/fd/*; do readlink "$f"; done | grep -F "$NOOK_ROOT" || true)
check_eq "the pool server holds nothing of the store" "" "$store_fds"
check_eq "its stdio is /dev/null" "/dev/null /dev/null /dev/null" \
  "$(readlink "/proc/$pp/fd/0") $(readlink "/proc/$pp/fd/1") $(readlink "/proc/$pp/fd/2")"
check_eq "its cwd is /" "/" "$(readlink "/proc/$pp/cwd")"
check_eq "its name is nook-netpool" "nook-netpool" "$(cat "/proc/$pp/comm")"

# Answers that must not be used. The pool's socket taken over by fake servers, each named
# nook-netpool and in the kept user namespace: one that sends a network namespace of another
# user namespace (the host's); one in a PID namespace of its own, as a container given the
# runtime directory would be (`-v /tmp:/tmp`), that sends a namespace of the kept one; one
# that never answers. Each time the run makes a namespace of its own.
rt=$("$NOOK" info --format json | sed -nE 's/.*"RuntimeDirectory" *: *"([^" ]*).*/\1/p')
check_match "nook info names the runtime directory" '^/' "$rt"
keeper=$(keeper_pid "$NOOK")
kill -TERM "$pp"
wait_until "the pool server ended (SIGTERM)" 10 pid_ended "$pp"
fake() { # MODE: a fake server on the pool's socket, ready once $T_SCRATCH/fake-MODE says
  # the network namespace it sends
  python3 - "$rt" "$1" "$T_SCRATCH/fake-$1" "$keeper" <<'EOF' &
import ctypes, os, signal, socket, sys
rt, mode, ready, keeper = sys.argv[1:5]
libc = ctypes.CDLL(None, use_errno=True)
NEWUSER, NEWPID, NEWNET = 0x10000000, 0x20000000, 0x40000000
def ok(r):
    if r != 0:
        raise OSError(ctypes.get_errno(), "fake server")
ok(libc.setns(os.open("/proc/%s/ns/user" % keeper, os.O_RDONLY), NEWUSER))
if mode == "container":
    ok(libc.unshare(NEWPID | NEWNET))
    if os.fork() != 0:
        os.wait()
        sys.exit(0)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
libc.prctl(15, b"nook-netpool")  # PR_SET_NAME
os.chdir(rt)
try:
    os.unlink("netns-pool.sock")
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind("netns-pool.sock")
s.listen(4)
ns = os.open("/proc/self/ns/net", os.O_RDONLY)
with open(ready, "w") as f:
    f.write(os.readlink("/proc/self/ns/net") + "\n")
held = []
while True:
    c, _ = s.accept()
    if mode == "mute":
        held.append(c)  # never answered
    else:
        socket.send_fds(c, [b"f"], [ns])
        c.close()
EOF
  fpid=$!
  wait_until "the fake server ($1) is listening" 10 test -s "$T_SCRATCH/fake-$1"
}
for mode in foreign container; do
  fake "$mode"
  sent=$(cat "$T_SCRATCH/fake-$mode")
  nrun run --rm --network none busybox sh -c 'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags'
  check_eq "fake server ($mode): the run works" 0 "$RC"
  check_match "... in a network namespace" '^net:\[[0-9]+\]' "$OUT"
  if [ "$(sed -n 1p <<<"$OUT")" != "$sent" ]; then ok "... not the one sent ($sent)"
  else fail "... not the one sent ($sent)" "$OUT"; fi
  check_eq "... lo up" "0x9" "$(sed -n 2p <<<"$OUT")"
  kill "$fpid"
  wait "$fpid" 2>/dev/null
done
fake mute
start=$SECONDS
nrun run --rm --network none busybox cat /sys/class/net/lo/flags
check_eq "a server that never answers: the run works anyway" "0 0x9" "$RC $OUT"
check "... without waiting for it long (under 20 s)" test $((SECONDS - start)) -lt 20
kill "$fpid"
wait "$fpid" 2>/dev/null

# A stale socket (its server gone): the next run starts a new server.
check_status "a run with the pool's socket stale works" 0 run --rm --network none busybox true
wait_until "a new pool server started" 10 have_pool

# NOOK_NETNS_POOL=0: nothing taken, nothing started; the run still has lo up.
pp=$(pool_pid)
kill -TERM "$pp"
wait_until "the pool server ended" 10 pid_ended "$pp"
NOOK_NETNS_POOL=0 nrun run --rm --network none busybox cat /sys/class/net/lo/flags
check_eq "NOOK_NETNS_POOL=0: the run works, lo up" "0 0x9" "$RC $OUT"
# (a server holds the pool's lock from before the run that started it returns)
check "NOOK_NETNS_POOL=0: no pool server was started (its lock is free)" \
  flock -n "$rt/netns-pool.lock" true

if [ "$NOOK_TEST_USER_KIND" = single ]; then
  nrun run --rm --network none busybox readlink /proc/self/ns/user
  check_eq "single map, as root: the user namespace is the kept one" \
    "$(readlink "/proc/$(keeper_pid "$NOOK")/ns/user")" "$OUT"
  nrun run --rm --network none -u 1000 busybox sh -c 'readlink /proc/self/ns/user; id -u'
  check_eq "single map, -u 1000: the run works as 1000" "0 1000" "$RC $(sed -n 2p <<<"$OUT")"
  [ "$(sed -n 1p <<<"$OUT")" != "$(readlink "/proc/$(keeper_pid "$NOOK")/ns/user")" ] &&
    ok "single map, -u 1000: a user namespace of its own" ||
    fail "single map, -u 1000: a user namespace of its own" "$OUT"
  NOOK_NETNS_POOL=0 nrun run --rm --network none busybox readlink /proc/self/ns/user
  [ "$OUT" != "$(readlink "/proc/$(keeper_pid "$NOOK")/ns/user")" ] &&
    ok "single map, NOOK_NETNS_POOL=0: a user namespace of its own" ||
    fail "single map, NOOK_NETNS_POOL=0: a user namespace of its own" "$OUT"
fi

# The server ends with its keeper.
check_status "a run (re)starts the pool" 0 run --rm --network none busybox true
wait_until "the pool server is back" 10 have_pool
pp=$(pool_pid)
kill -TERM "$(keeper_pid "$NOOK")"
wait_until "the pool server ends with its keeper" 10 pid_ended "$pp"

done_testing
