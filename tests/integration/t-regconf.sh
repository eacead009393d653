#!/usr/bin/env bash
# t-regconf.sh: a podman user's ~/.config/containers/registries.conf: [[registry]] mirrors
# and locations, [aliases], unqualified-search-registries, blocked registries; the image is
# fetched from where it says and named as Docker names it.  Everything is on a loopback
# docker-registry; docker.io itself is never reached (its mirror answers first).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup plain
mkdir -p "$XDG_CONFIG_HOME/containers"
CONF=$XDG_CONFIG_HOME/containers/registries.conf

check_status "busybox pushed as library/regtest" 0 push busybox "$R/library/regtest:1"
check_status "busybox pushed as lab/base" 0 push busybox "$R/lab/base:1.0"
nrun images -q --no-trunc busybox
ID=$OUT

# ---- a mirror of docker.io ----
cat >"$CONF" <<CONF
# a classroom mirror (a podman user's file)
[[registry]]
location = "docker.io"

[[registry.mirror]]
location = "$R"
CONF
in_store a nrun pull regtest:1
check_eq "pull of a docker.io name through registries.conf's mirror exits 0" 0 "$RC"
in_store a nrun images -q --no-trunc regtest:1
check_eq "... named as Docker names it, with the pushed image's ID" "$ID" "$OUT"
in_store a nrun run --rm regtest:1 echo mirrored
check_eq "... and runs" "mirrored" "$OUT"
nrun info
check_match "info names the registries.conf read" "registries.conf: $CONF" "$OUT"
check_match "... and its registry entries" "docker.io at docker.io: 1 mirror" "$OUT"

# ---- a location elsewhere, aliases, search, blocked ----
cat >"$CONF" <<CONF
unqualified-search-registries = [
  "$R", # the lab's registry only
]

[aliases]
"myalias" = "$R/lab/base"

[[registry]]
prefix = "lab.example.invalid/team"
location = '$R/lab'

[[registry]]
location = "127.0.0.2:1"
blocked = true
CONF
in_store b nrun pull lab.example.invalid/team/base:1.0
check_eq "a [[registry]] location is where a prefix is fetched from" 0 "$RC"
in_store b nrun images -q --no-trunc lab.example.invalid/team/base:1.0
check_eq "... the image keeps the name asked for" "$ID" "$OUT"
in_store b nrun pull myalias:1.0
check_eq "a short name goes to its alias" 0 "$RC"
in_store b nrun images -q --no-trunc myalias:1.0
check_eq "... and keeps Docker's name (run finds it)" "$ID" "$OUT"
in_store b nrun pull lab/base:1.0
check_eq "a short name without alias goes to the unqualified-search registries" 0 "$RC"
in_store b nrun images --format '{{.Repository}}:{{.Tag}}' lab/base:1.0
check_eq "... named as Docker names it" "lab/base:1.0" "$OUT"
in_store b nrun pull 127.0.0.2:1/lab/base:1.0
check_eq "a blocked registry: pull exits 1" 1 "$RC"
check_match "... saying so and where" "127.0.0.2:1 \(blocked by $CONF\)" "$ERR"

# ---- a file nook cannot read ----
printf '[[registry]]\nlocation = {inline = "table"}\n' >"$CONF"
in_store c nrun pull "$R/lab/base:1.0"
check_eq "a registries.conf nook cannot read does not stop a pull" 0 "$RC"
check_match "... it is named (file and line) in a warning, and left out" \
  "$CONF:2: .*the file is ignored" "$ERR"
nrun info
check_match "... and in nook info" "registries.conf: FAILED: $CONF:2: " "$OUT"

done_testing
