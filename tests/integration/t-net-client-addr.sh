#!/usr/bin/env bash
# t-net-client-addr.sh: behind a published TCP port, a client that is not on loopback keeps
# its own address inside (busybox httpd's CGI REMOTE_ADDR), as Docker shows it: the
# forwarder binds the connection inside to the client's address (IP_TRANSPARENT) and the
# container's namespace routes the answers back to it (tcp_fwmark_accept, a fwmark rule,
# a local route). On the default network and on a user-defined network.
# The client's address (198.51.100.7, TEST-NET-2) exists only in a user and network namespace
# this test makes (nook runs there too, so that its published port is there; /etc/subuid and
# /etc/subgid are hidden in it, since newuidmap cannot map a range from inside it: both kinds
# of user run as single-id users there). Only loopback and namespaces the test made.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

unshare --user --map-user="$(id -u)" --map-group="$(id -g)" --keep-caps --net true 2>/dev/null \
  || skip_all "unshare --map-user/--keep-caps does not work here"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) missing"

W=$T_SCRATCH/www
mkdir -p "$W/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "peer=$REMOTE_ADDR"\n' >"$W/cgi-bin/peer"
chmod -R a+rX "$W"
chmod a+x "$W/cgi-bin/peer"
: >"$T_SCRATCH/empty"

# Runs inside the namespaces, as the user with no capability left; one "name=value" line a
# result. (A fixed port is fine: the namespace is this test's alone.)
cat >"$T_SCRATCH/inside.sh" <<'INSIDE'
set -u
N=$1 W=$2 P=18080
unmap() { sed 's/^peer=\[::ffff:\(.*\)\]$/peer=\1/'; }
peer() { curl -fsS --max-time 5 ${1:+--interface "$1"} "http://127.0.0.1:$P/cgi-bin/peer" 2>/dev/null | unmap; }
ready() {
  local end=$(($(date +%s) + 30))
  until peer | grep -q '^peer='; do
    [ "$(date +%s)" -lt "$end" ] || { echo "$1-ready=no answer in 30 s"; return 1; }
    sleep 0.1 # (polling with a deadline)
  done
  echo "$1-ready=yes"
}
"$N" bootstrap busybox >/dev/null 2>&1 || echo "bootstrap=failed"
"$N" info | sed -n 's/^ID mapping: \([a-z]*\).*/mapping=\1/p'
for net in bridge user; do
  if [ "$net" = user ]; then
    "$N" network create ca-net >/dev/null || echo "user-create=failed"
    opt=ca-net
  else
    opt=bridge
  fi
  "$N" run -d --name "ca-$net" --network "$opt" -p "$P:80" -v "$W:/www:ro" busybox \
    httpd -f -p 80 -h /www >/dev/null || echo "$net-run=failed"
  if ready "$net"; then
    echo "$net-lo=$(peer)"
    echo "$net-other=$(peer 198.51.100.7)"
    echo "$net-again=$(peer 198.51.100.7)"
  fi
  "$N" rm -f "ca-$net" >/dev/null
done
"$N" network rm ca-net >/dev/null
INSIDE

OUT=$(unshare --user --map-user="$(id -u)" --map-group="$(id -g)" --keep-caps --net --mount \
  bash -c '
    ip link set lo up && ip addr add 198.51.100.7/32 dev lo || { echo "setup=ip failed"; exit 1; }
    mount --bind "$1" /etc/subuid && mount --bind "$1" /etc/subgid || { echo "setup=mount failed"; exit 1; }
    export NOOK_ROOT=$2
    exec setpriv --inh-caps=-all --ambient-caps=-all bash "$3" "$4" "$5"
  ' sh "$T_SCRATCH/empty" "$T_SCRATCH/store" "$T_SCRATCH/inside.sh" "$NOOK" "$W" 2>&1)
diag "$OUT"
res() { sed -n "s/^$1=//p" <<<"$OUT" | head -1; }

check_eq "inside the test's namespaces nook runs as a single-id user" single "$(res mapping)"
for net in bridge user; do
  check_eq "--network $net: the server answers on the published port" yes "$(res "$net-ready")"
  check_eq "--network $net: a client on 127.0.0.1 is seen as 127.0.0.1" peer=127.0.0.1 "$(res "$net-lo")"
  check_eq "--network $net: a client on 198.51.100.7 (not loopback) is seen as 198.51.100.7" \
    peer=198.51.100.7 "$(res "$net-other")"
  check_eq "--network $net: ... again (a second connection)" peer=198.51.100.7 "$(res "$net-again")"
done
nrun info
check_match "nook info says TCP clients keep their address (IP_TRANSPARENT)" \
  'Published ports:.*TCP: the server sees the client.s address as it is.*IP_TRANSPARENT' "$OUT"
done_testing
