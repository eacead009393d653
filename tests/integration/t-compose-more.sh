#!/usr/bin/env bash
# t-compose-more.sh: a service on several networks joins every one of them, with its
# aliases and ipv4_address per network (run's --network for the first, `network connect`
# for the others); after compose create + start too.  (A restart of such a container
# is not checked: the network layer does not yet keep `network connect`'s networks across
# nook restart for a user with a range.)
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

M=$T_SCRATCH/multi
mkdir -p "$M"
cat >"$M/compose.yaml" <<'YAML'
name: mn
services:
  front:
    image: busybox
    command: sleep 1000
    networks: [fe]
  back:
    image: busybox
    command: sleep 1000
    networks: [be]
  bridge:
    image: busybox
    command: sleep 1000
    networks:
      fe:
        aliases: [gate]
      be:
        aliases: [gate-be]
        ipv4_address: 10.231.7.50
networks:
  fe: {}
  be:
    ipam:
      config:
        - subnet: 10.231.7.0/24
YAML
cd "$M" || exit 1
resolves() { # SERVICE NAME...: the names SERVICE resolves, one a line
  local s=$1
  shift
  "$NOOK" compose exec -T "$s" sh -c 'for n in "$@"; do nslookup $n >/dev/null 2>&1 && echo $n; done' sh "$@" 2>/dev/null
}
nrun compose up -d
check_eq "up of a service on two networks" 0 "$RC"
check_no_match "... no warning of a network not joined" 'joins one network' "$ERR"
check_eq "front (fe) resolves bridge and its fe alias, not back" \
  "bridge${NL}gate" "$(resolves front bridge gate gate-be back)"
check_eq "back (be) resolves bridge and its be alias, not front" \
  "bridge${NL}gate-be" "$(resolves back bridge gate gate-be front)"
nrun compose exec -T bridge sh -c 'ip -4 addr | grep -c "inet 10.231.7.50/"'
check_eq "ipv4_address on the second network" "1" "$OUT"
nrun compose exec -T back ping -c1 -W30 10.231.7.50
check_eq "back reaches bridge's address on be" 0 "$RC"
nrun compose down
check_eq "down" 0 "$RC"
nrun network ls --format '{{.Name}}'
check_no_match "down removed both networks" 'mn_' "$OUT"

nrun compose create
check_eq "create" 0 "$RC"
nrun compose start
check_eq "start after create" 0 "$RC"
on_be() { [ "$(resolves back bridge gate-be)" = "bridge${NL}gate-be" ]; }
wait_until "start joined the second network" 60 on_be && ok "start joined the second network"
nrun compose down
check_eq "down" 0 "$RC"

done_testing
