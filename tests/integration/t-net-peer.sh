#!/usr/bin/env bash
# t-net-peer.sh: --network container:NAME asks NAME's name servers (its resolv.conf, as
# Docker's): NAME on a user-defined network has the network's gateway as name server, so
# the container sharing its network namespace resolves the network's names through it;
# --dns given to the container still wins. The network's name server answers over TCP too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

net=peernet-$$
nrun network create "$net"
check_eq "network create $net" 0 "$RC"
nrun run -d --name peerdb --network "$net" busybox sleep 300
check_eq "run -d --name peerdb --network $net" 0 "$RC"
GW=$("$NOOK" network inspect "$net" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Gateway"])')
check_match "the network has a gateway" '^[0-9.]+$' "$GW"
nrun exec peerdb cat /etc/resolv.conf
DBRESOLV=$OUT
check_match "peerdb's name server is the gateway" "nameserver $GW" "$DBRESOLV"

nrun run --rm --network container:peerdb busybox cat /etc/resolv.conf
check_eq "container:peerdb has peerdb's resolv.conf" "$DBRESOLV" "$OUT"
nrun run --rm --network container:peerdb busybox nslookup peerdb
check_eq "container:peerdb: nslookup peerdb through the network's name server" 0 "$RC"
nrun run --rm --network container:peerdb --dns 192.0.2.53 busybox cat /etc/resolv.conf
check_eq "container:peerdb --dns 192.0.2.53: its own" "nameserver 192.0.2.53" "$OUT"

# --- the network's name server over TCP (DNS over TCP: what a resolver does with a long,
# truncated answer): a query for peerdb, A, sent by busybox nc from another container
DBADDR=$("$NOOK" exec peerdb sh -c 'ip -4 -o addr show eth0' | sed -n 's/.*inet \([0-9.]*\).*/\1/p')
check_match "peerdb's address" '^[0-9.]+$' "$DBADDR"
# length 24; id 0x1234, RD, one question; 6 "peerdb" 0; type A, class IN
query='\000\030\022\064\001\000\000\001\000\000\000\000\000\000\006peerdb\000\000\001\000\001'
nrun run --rm --network "$net" busybox sh -c \
  "printf '$query' | timeout 20 nc -w 10 $GW 53 | od -An -tu1 | tr -s ' \\n' '  '"
want=" $(tr . ' ' <<<"$DBADDR") "
check_match "DNS over TCP: the answer holds peerdb's address ($DBADDR)" "^ 0 [0-9]+ 18 52 .*$want" "$OUT"

# --- container:NAME restarted by its policy after NAME itself ran again ---------------------
V=$T_SCRATCH/v
mkdir -p "$V"
chmod 777 "$V"
nrun run -d --name peerside --network container:peerdb --restart on-failure:1 -v "$V:/v" busybox \
  sh -c 'echo run >>/v/runs; if [ -e /v/again ]; then exec sleep 300; fi
         while [ ! -e /v/go ]; do sleep 0.1; done; touch /v/again; exit 1'
check_eq "run -d --network container:peerdb --restart on-failure:1" 0 "$RC"
nrun restart -t 1 peerdb
check_eq "restart peerdb (it runs again, in new namespaces)" 0 "$RC"
touch "$V/go"
second_run() { [ "$(grep -c run "$V/runs" 2>/dev/null)" = 2 ] && "$NOOK" exec peerside true 2>/dev/null; }
failed_clearly() {
  "$NOOK" inspect -f '{{.State.Status}} {{.State.Error}}' peerside 2>/dev/null |
    grep -q '^exited .*has run again since this one joined'
}
# (peerdb is on a user-defined network: each of its runs has a user namespace of its own,
# for both kinds of user, and the supervisor of peerside is inside the old one)
wait_until "peerside's restart fails, saying why (its state's error)" 30 failed_clearly || true
nrun start peerside
check_eq "nook start peerside then joins peerdb's new namespaces" 0 "$RC"
wait_until "... and it runs" 30 second_run || true
nrun rm -f peerside

nrun rm -f peerdb
nrun network rm "$net"
check_eq "network rm $net" 0 "$RC"
done_testing
