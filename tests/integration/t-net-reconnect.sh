#!/usr/bin/env bash
# t-net-reconnect.sh: a container started on a user-defined network and added to another by
# `network connect` is on both again when its restart policy starts it again: its second
# interface has the same address, and a container of the other network reaches it by name.
# The container fails once, when the test says so (a file in a volume), then sleeps.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/v
mkdir -p "$V"
chmod 777 "$V"
a=rca-$$ b=rcb-$$
nrun network create "$a"
check_eq "network create $a" 0 "$RC"
nrun network create "$b"
check_eq "network create $b" 0 "$RC"
nrun run -d --name rc --network "$a" --restart on-failure:1 -v "$V:/v" busybox sh -c \
  'if [ -e /v/restarted ]; then exec sleep 300; fi
   while [ ! -e /v/go ]; do sleep 0.1; done; touch /v/restarted; exit 1'
check_eq "run -d --network $a --restart on-failure:1" 0 "$RC"
nrun network connect --alias rcalias "$b" rc
check_eq "network connect $b rc" 0 "$RC"
addr_on_b() { "$NOOK" exec rc ip -4 -o addr show eth1 2>/dev/null | sed -n 's/.*inet \([0-9.]*\).*/\1/p'; }
B1=$(addr_on_b)
check_match "connected: eth1 has an address of $b" '^[0-9.]+$' "$B1"

touch "$V/go"
restarted() { [ -e "$V/restarted" ] && "$NOOK" exec rc true 2>/dev/null && [ -n "$(addr_on_b)" ]; }
if ! wait_until "restarted by its policy, rc is on $b again (eth1)" 30 restarted; then
  "$NOOK" logs rc 2>&1 | sed "s/^/# logs: /"
else
  check_eq "... with the same address on $b" "$B1" "$(addr_on_b)"
  nrun run --rm --network "$b" busybox sh -c 'timeout 60 ping -c 1 -W 30 rc >/dev/null && timeout 60 ping -c 1 -W 30 rcalias >/dev/null && echo reached'
  check_eq "a container of $b reaches rc by name and alias" reached "$OUT"
  nrun exec rc ip -4 -o addr show eth0
  check_match "rc keeps its network $a on eth0" 'eth0 +inet ' "$OUT"
fi
nrun rm -f rc
check_eq "rm -f rc" 0 "$RC"
nrun network rm "$a" "$b"
check_eq "network rm $a $b" 0 "$RC"
done_testing
