#!/usr/bin/env bash
# t-net-inspect-stopped.sh: `inspect` of a stopped container lists every network it is on,
# the one it was started on and those `network connect` added (kept in
# containers/ID/networks.json), with the aliases given, as Docker's; the addresses are
# empty while it is stopped; after `network disconnect` the network is gone from it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

a=isa-$$ b=isb-$$ c=is-$$
nrun network create "$a"
check_eq "network create $a" 0 "$RC"
nrun network create "$b"
check_eq "network create $b" 0 "$RC"
nrun run -d --name "$c" --network "$a" busybox sleep 1000
check_eq "run -d --network $a" 0 "$RC"
nrun network connect --alias "$c-alias" "$b" "$c"
check_eq "network connect --alias $c-alias $b $c" 0 "$RC"

nets() { "$NOOK" inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}' "$c"; }
aliases() { "$NOOK" inspect --format "{{json (index .NetworkSettings.Networks \"$b\").Aliases}}" "$c"; }
check_match "running: inspect lists both networks with addresses" \
  "^$a=[0-9.]+;$b=[0-9.]+;\$" "$(nets)"

nrun stop -t 1 "$c"
check_eq "stop" 0 "$RC"
check_eq "stopped: inspect lists both networks, no address" "$a=;$b=;" "$(nets)"
check_match "stopped: the connected network keeps its alias" "\"$c-alias\"" "$(aliases)"

nrun network disconnect "$b" "$c"
check_eq "network disconnect $b of the stopped $c" 0 "$RC"
check_eq "after disconnect: only $a" "$a=;" "$(nets)"

nrun rm -f "$c"
nrun network rm "$a" "$b"
check_eq "network rm" 0 "$RC"
done_testing
