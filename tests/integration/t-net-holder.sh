#!/usr/bin/env bash
# t-net-holder.sh: a user network's holder killed on its own (kill -9): the container's
# supervisor sees it and says so in the container's log; `nook restart` then puts the
# container on the network again (a new holder), where another container reaches it by name.
# The holder is found through its socket (SO_PEERCRED), ended by that pid.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

net=hold-$$
nrun network create "$net"
check_eq "network create $net" 0 "$RC"
nrun run -d --name hk --network "$net" busybox sleep 300
check_eq "run -d --name hk --network $net" 0 "$RC"
ID=$("$NOOK" network inspect "$net" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"][:12])')
HOLDER=$(python3 - "$ID" <<'EOF2'
import os, socket, struct, sys
dirs = [os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"), "nook"),
        "/tmp/nook-%d" % os.getuid(),
        os.path.join(os.environ.get("XDG_STATE_HOME", os.path.expanduser("~/.local/state")), "nook", "run")]
for d in dirs:
    p = os.path.join(d, "net-%s.sock" % sys.argv[1])
    if os.path.exists(p):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(p)
        pid, _, _ = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        print(pid)
        break
EOF2
)
check_match "the network's holder is found through its socket" '^[0-9]+$' "$HOLDER"
check_eq "... it is nook-netns" nook-netns "$(cat "/proc/$HOLDER/comm" 2>/dev/null)"
kill -KILL "$HOLDER"
said() { "$NOOK" logs hk 2>&1 | grep -q "network $net: its holder (nook-netns) has ended"; }
wait_until "the container's log says its network's holder ended" 30 said || true

nrun restart -t 1 hk
check_eq "restart hk" 0 "$RC"
back() { "$NOOK" exec hk ip -4 -o addr show eth0 2>/dev/null | grep -q 'inet '; }
wait_until "after restart, hk has its address on $net again" 30 back || true
nrun run --rm --network "$net" busybox sh -c 'timeout 60 ping -c 1 -W 30 hk >/dev/null && echo reached'
check_eq "a new container of $net reaches hk by name" reached "$OUT"
nrun rm -f hk
nrun network rm "$net"
check_eq "network rm $net" 0 "$RC"
done_testing
