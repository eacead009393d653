#!/usr/bin/env bash
# t-net-srcaddr.sh: the client's address behind a published port, as the server inside sees
# it (busybox httpd's CGI REMOTE_ADDR): a client on the host's loopback is seen with its own
# loopback address (127.0.0.1, 127.0.0.2), not the container's address or the gateway's, on
# the default network, with slirp4netns and on a user-defined network; `nook info` says so.
# IPv6 host addresses for -p ([::1]:P:80, ::1:P:80): a client on ::1 is the IPv4 loopback
# inside (the container's network is IPv4 only).
# Only loopback and namespaces the tests made.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

W=$T_SCRATCH/www
mkdir -p "$W/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "peer=$REMOTE_ADDR"\n' >"$W/cgi-bin/peer"
chmod -R a+rX "$W"
chmod a+x "$W/cgi-bin/peer"

# (busybox httpd listens on [::]: an IPv4 client is [::ffff:A.B.C.D] to it)
unmap() { sed 's/^peer=\[::ffff:\(.*\)\]$/peer=\1/'; }
peer() { # peer PORT [LOCAL_ADDR]: what the server saw
  curl -fsS --max-time 5 ${2:+--interface "$2"} "http://127.0.0.1:$1/cgi-bin/peer" 2>/dev/null | unmap
}
answers() { peer "$1" | grep -q '^peer='; }

run_server() { # run_server NAME PORT NETWORK
  nrun run -d --name "$1" --network "$3" -p "$2:80" -v "$W:/www:ro" busybox httpd -f -p 80 -h /www
  check_eq "run -d --network $3 -p $2:80 (a CGI printing REMOTE_ADDR)" 0 "$RC"
}

for net in bridge slirp4netns; do
  P=$(free_port tcp)
  run_server "src-$net" "$P" "$net"
  if wait_until "--network $net: the server answers on 127.0.0.1:$P" 30 answers "$P"; then
    check_eq "--network $net: a client on 127.0.0.1 is seen as 127.0.0.1" "peer=127.0.0.1" "$(peer "$P")"
    check_eq "--network $net: a client on 127.0.0.2 is seen as 127.0.0.2" "peer=127.0.0.2" \
      "$(peer "$P" 127.0.0.2)"
  fi
  nrun rm -f "src-$net"
done

# --- IPv6 host addresses: [::1]:PORT:80 and Docker's raw form ::1:PORT:80 --------------------
peer6() { curl -fsS --max-time 5 "http://[::1]:$1/cgi-bin/peer" 2>/dev/null | unmap; }
answers6() { peer6 "$1" | grep -q '^peer='; }
for form in brackets raw; do
  P=$(free_port tcp)
  if [ "$form" = brackets ]; then spec="[::1]:$P:80"; else spec="::1:$P:80"; fi
  nrun run -d --name "src6-$form" -p "$spec" -v "$W:/www:ro" busybox httpd -f -p 80 -h /www
  check_eq "run -d -p $spec" 0 "$RC"
  if wait_until "-p $spec: the server answers on [::1]:$P" 30 answers6 "$P"; then
    check_eq "-p $spec: a client on ::1 is seen as the IPv4 loopback inside" "peer=127.0.0.1" \
      "$(peer6 "$P")"
  fi
  nrun port "src6-$form"
  check_eq "-p $spec: nook port" "80/tcp -> [::1]:$P" "$OUT"
  nrun rm -f "src6-$form"
done
nrun run --rm -p ":::$P" busybox true
check_eq "-p :::$P (Docker refuses it too: the address would be ':'): exit 125" 125 "$RC"
check_match "... the error names the flag and the value" "\":::$P\" for \"-p, --publish\" flag.*invalid IPv6 address" "$ERR"

nrun network create "srcnet-$$"
check_eq "network create srcnet" 0 "$RC"
P=$(free_port tcp)
run_server src-user "$P" "srcnet-$$"
if wait_until "user network: the server answers on 127.0.0.1:$P" 30 answers "$P"; then
  check_eq "user network: a client on 127.0.0.1 is seen as 127.0.0.1" "peer=127.0.0.1" "$(peer "$P")"
fi
# the container's own loopback clients are unchanged: a client inside sees itself as local
nrun exec src-user timeout 30 wget -qO- http://127.0.0.1/cgi-bin/peer
check_eq "user network: a client inside on its own loopback: 127.0.0.1" "peer=127.0.0.1" \
  "$(unmap <<<"$OUT")"
nrun rm -f src-user
nrun network rm "srcnet-$$"

nrun info
check_match "nook info: published ports keep a loopback client's address" \
  'Published ports:.*loopback client.s address' "$OUT"

done_testing
