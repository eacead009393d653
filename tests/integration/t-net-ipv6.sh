#!/usr/bin/env bash
# t-net-ipv6.sh: `network create --ipv6` (with --subnet fd00:db8:..::/64, or a default unique
# local /64) gives its containers an IPv6 address too, as Docker does: they reach each other
# over IPv6 by address and by name (the name server answers AAAA, the hosts files list both
# addresses), in both directions; `inspect` and `network inspect` show the addresses;
# an IPv6 subnet without --ipv6, a bad or overlapping one are refused (exit 1).
# No outbound IPv6 (the uplink is IPv4): no default IPv6 route inside.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

n=v6-$$ n2=v6b-$$ a=v6a-$$ b=v6c-$$
sub=fd00:db8:$(printf %x $(($$ % 65536)))::
nrun network create --ipv6 --subnet "$sub/64" "$n"
check_eq "network create --ipv6 --subnet $sub/64" 0 "$RC"
nrun network inspect "$n"
check_match "network inspect: EnableIPv6 true" '"EnableIPv6": *true' "$OUT"
check_match "network inspect: the IPv6 subnet and gateway" "\"Gateway\": *\"${sub}1\"" "$OUT"

nrun run -d --name "$a" --network "$n" busybox sh -c \
  'mkdir -p /www && echo served6 >/www/index.html && exec httpd -f -p 80 -h /www'
check_eq "run -d --network $n ($a: httpd)" 0 "$RC"
addr6() { "$NOOK" inspect --format "{{(index .NetworkSettings.Networks \"$n\").GlobalIPv6Address}}" "$1"; }
A6=$(addr6 "$a")
check_match "inspect: $a has an IPv6 address of the subnet" "^${sub}[0-9a-f]+\$" "$A6"
nrun inspect --format "{{(index .NetworkSettings.Networks \"$n\").IPv6Gateway}}" "$a"
check_eq "inspect: its IPv6 gateway" "${sub}1" "$OUT"

# a container that joins later reaches the first over IPv6, by address and by name
nrun run --rm --network "$n" busybox sh -c "
  end=\$(( \$(date +%s) + 30 ))
  until timeout 5 wget -qO- 'http://[$A6]/' 2>/dev/null | grep -q served6; do
    [ \"\$(date +%s)\" -lt \"\$end\" ] || { echo 'no answer by address'; exit 1; }
    sleep 0.2
  done
  echo by-address
  nslookup -type=AAAA $a | sed -n 's/^Address: *\([0-9a-f:]*\)$/aaaa=\1/p'
  grep -w '$a' /etc/hosts | grep -q : && echo hosts6
  ping -6 -c1 -W5 $a >/dev/null && echo ping6-by-name
  ip -6 route show default | grep -q . && echo has-default-route
  self6=\$(ip -6 -o addr show dev eth0 scope global | sed -n 's/.*inet6 \\([0-9a-f:]*\\).*/\\1/p')
  [ -n \"\$self6\" ] && grep -q \"^\$self6[[:space:]]\" /etc/hosts && echo own6
  true"
check_match "a later container reaches $a over IPv6 by address" by-address "$OUT"
check_match "... the name server answers AAAA with its address" "aaaa=$A6" "$OUT"
check_match "... its hosts file lists the IPv6 address" hosts6 "$OUT"
check_match "... ping -6 by name" ping6-by-name "$OUT"
check_no_match "... no default IPv6 route (no IPv6 uplink)" has-default-route "$OUT"
check_match "... its own hosts file lists its own IPv6 address" own6 "$OUT"

# the first one reaches a later one by name over IPv6 (both directions)
nrun run -d --name "$b" --network "$n" busybox sleep 1000
check_eq "run -d $b" 0 "$RC"
B6=$(addr6 "$b")
check_match "$b has another IPv6 address" "^${sub}[0-9a-f]+\$" "$B6"
[ "$A6" != "$B6" ]
check_eq "... not $a's" 0 "$?"
nrun exec "$a" sh -c "nslookup -type=AAAA $b | sed -n 's/^Address: *\([0-9a-f:]*\)$/aaaa=\1/p'; ping -6 -c1 -W5 $b 2>&1 && echo ping6"
check_match "$a finds $b by AAAA" "aaaa=$B6" "$OUT"
check_match "$a reaches $b over IPv6 by name" ping6 "$OUT"

# --- errors ---------------------------------------------------------------------------------
nrun network create --subnet fd00:db8:ffff::/64 "$n2"
check_eq "an IPv6 subnet without --ipv6: exit 1" 1 "$RC"
check_match "... says --ipv6 is needed" 'needs --ipv6' "$ERR"
nrun network create --ipv6 --subnet "$sub/48" "$n2"
check_eq "an IPv6 subnet with host bits: exit 1" 1 "$RC"
nrun network create --ipv6 --subnet "${sub%::}::/56" "$n2"
check_eq "an overlapping IPv6 subnet: exit 1" 1 "$RC"
check_match "... names the network it overlaps" "overlaps network $n" "$ERR"
nrun network create --ipv6 "$n2"
check_eq "network create --ipv6 (a default subnet)" 0 "$RC"
nrun network inspect "$n2"
check_match "... a unique local /64" '"Subnet": *"fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::/64"' "$OUT"
nrun network rm "$n2"

nrun rm -f "$a" "$b"
nrun network rm "$n"
check_eq "network rm" 0 "$RC"
done_testing
