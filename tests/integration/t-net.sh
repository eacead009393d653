#!/usr/bin/env bash
# t-net.sh: the default network (bridge: nook's libslirp helper on a tap nook configures)
# and slirp4netns: the interface is up when the command starts, resolv.conf and hosts,
# --dns/--dns-search/--dns-option/--add-host, host loopback closed unless
# allow_host_loopback=true, --network none keeps only lo, bad --network values.
# Only loopback and namespaces the tests made: a server on the host's 127.0.0.1, started
# here; no test depends on the internet.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

# --- the interface is configured before the command starts -------------------------------
for net in bridge slirp4netns; do
  nrun run --rm --network "$net" busybox sh -c 'ip -o -4 addr show eth0; ip route'
  check_match "--network $net: eth0 has 10.0.2.100/24 when the command starts" \
    'eth0 +inet 10\.0\.2\.100/24' "$OUT"
  check_match "--network $net: default route via 10.0.2.2" 'default via 10\.0\.2\.2 dev eth0' "$OUT"
done
nrun run --rm busybox cat /sys/class/net/eth0/mtu
check_eq "default network: MTU 65520" 65520 "$OUT"
nrun run --rm --network none busybox ls /sys/class/net
check_eq "--network none: only lo" lo "$OUT"

# --- resolv.conf and hosts ------------------------------------------------------------------
want_ns=$(awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 != "::1" { print "nameserver " $2 }' /etc/resolv.conf)
nrun run --rm busybox grep '^nameserver' /etc/resolv.conf
if [ -n "$want_ns" ]; then
  check_eq "default network: the host's non-loopback name servers" "$want_ns" "$OUT"
else
  check_eq "default network: no loopback name server (the host has only those)" "" "$OUT"
fi
nrun run --rm --dns 192.0.2.53 --dns 2001:db8::53 --dns-search example.test --dns-option ndots:3 \
  busybox cat /etc/resolv.conf
check_eq "--dns, --dns-search, --dns-option" \
  "nameserver 192.0.2.53${NL}nameserver 2001:db8::53${NL}search example.test${NL}options ndots:3" "$OUT"
nrun run --rm --name "netname-$$" --hostname box --add-host db.test:192.0.2.7 \
  --add-host 'v6.test:[2001:db8::7]' busybox cat /etc/hosts
check_match "/etc/hosts: the container's address, hostname and name" \
  $'\n10\\.0\\.2\\.100\tbox netname-'"$$"$'\n' "$OUT"
check_match "--add-host NAME:IP" $'\n192\\.0\\.2\\.7\tdb\\.test\n' "$OUT"
check_match "--add-host NAME:[IPv6]" $'\n2001:db8::7\tv6\\.test' "$OUT"
nrun run --rm --add-host gw.test:host-gateway busybox grep gw.test /etc/hosts
check_match "--add-host NAME:host-gateway resolves to an address" $'^[0-9.]+\tgw\\.test$' "$OUT"
nrun run --rm --network libslirp:allow_host_loopback=true --add-host gw.test:host-gateway \
  busybox grep gw.test /etc/hosts
check_eq "host-gateway with allow_host_loopback=true is 10.0.2.2" $'10.0.2.2\tgw.test' "$OUT"

# --- host loopback: closed by default, open when allowed -----------------------------------
HP=$(free_port tcp)
mkdir -p "$T_SCRATCH/hostwww"
echo from-the-host >"$T_SCRATCH/hostwww/index.html"
python3 -m http.server "$HP" --bind 127.0.0.1 --directory "$T_SCRATCH/hostwww" \
  >"$T_SCRATCH/hostsrv.log" 2>&1 &
HOSTSRV=$!
wait_until "the host's test server answers on 127.0.0.1:$HP" 60 \
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$HP/"
for net in bridge slirp4netns; do
  nrun run --rm --network "$net" -v "$(probe_vol)" busybox /probe connect 10.0.2.2 "$HP"
  check_match "--network $net: the host's loopback is closed (a network error, not a success)" \
    '^connect=(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|ECONNRESET)$' "$OUT"
done
for net in libslirp slirp4netns; do
  nrun run --rm --network "$net:allow_host_loopback=true" busybox \
    timeout 30 wget -qO- "http://10.0.2.2:$HP/"
  check_eq "--network $net:allow_host_loopback=true reaches the host's 127.0.0.1" from-the-host "$OUT"
done
kill "$HOSTSRV" 2>/dev/null
wait "$HOSTSRV" 2>/dev/null

# --- outbound to a host address that is not loopback (when the host has one) ---------------
host_ip=$(python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("203.0.113.1", 9)); print(s.getsockname()[0])
except OSError:
    pass' 2>/dev/null)
if [ -n "$host_ip" ]; then
  OP=$(free_port tcp)
  python3 -m http.server "$OP" --bind "$host_ip" --directory "$T_SCRATCH/hostwww" \
    >"$T_SCRATCH/hostsrv2.log" 2>&1 &
  SRV2=$!
  if wait_until "a test server answers on the host's address $host_ip:$OP" 60 \
    curl -fsS -o /dev/null --max-time 2 "http://$host_ip:$OP/"; then
    nrun run --rm busybox timeout 30 wget -qO- "http://$host_ip:$OP/"
    check_eq "default network: outbound TCP to the host's own address $host_ip" from-the-host "$OUT"
    nrun run --rm --add-host hostsvc:host-gateway busybox timeout 30 wget -qO- "http://hostsvc:$OP/"
    check_eq "host-gateway reaches the host's non-loopback services" from-the-host "$OUT"
  fi
  kill "$SRV2" 2>/dev/null
  wait "$SRV2" 2>/dev/null
fi

# --- bad values -------------------------------------------------------------------------------
before=$("$NOOK" ps -a -q | wc -l)
check_status "--network nosuch: exit 125" 125 run --rm --network nosuch busybox true
check_match "--network nosuch: says the network is not found" 'network nosuch not found' "$ERR"
check_status "--network slirp4netns:bogus=1: exit 125" 125 run --network slirp4netns:bogus=1 busybox true
check_match "... names the option" "unknown option 'bogus'" "$ERR"
check_status "--network libslirp:mtu=10: exit 125" 125 run --network libslirp:mtu=10 busybox true
check_match "... names the value" "mtu wants a number" "$ERR"
check_status "--dns not-an-ip: exit 125" 125 run --dns not-an-ip busybox true
check_match "... names the flag and value" 'invalid argument "not-an-ip" for "--dns" flag' "$ERR"
check_status "--add-host without an address: exit 125" 125 run --add-host justaname busybox true
check_match "... names the flag and value" 'invalid argument "justaname" for "--add-host" flag' "$ERR"
check_eq "bad network flags leave no container" "$before" "$("$NOOK" ps -a -q | wc -l)"

done_testing
