#!/usr/bin/env bash
# t-regconf-short.sh: registries.conf short-name-mode, as podman: "enforcing" with several
# unqualified-search registries makes a short name an error without a terminal (podman's
# words) and a question on one (the registry chosen is the one pulled from); an alias, a
# single search registry, "permissive" and a qualified name are not ambiguous. Loopback
# docker-registry only.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup sn script
mkdir -p "$XDG_CONFIG_HOME/containers"
CONF=$XDG_CONFIG_HOME/containers/registries.conf
check_status "busybox pushed as lab/sn" 0 push busybox "$R/lab/sn:1"
# the first search registry is a closed port: reaching it would fail
closed=127.0.0.1:$(free_port)

cat >"$CONF" <<CONF
unqualified-search-registries = ["$closed", "$R"]
short-name-mode = "enforcing"
CONF
in_store a nrun pull lab/sn:1 </dev/null
check_eq "enforcing, two search registries, no terminal: exit 1" 1 "$RC"
check_match "... podman's words" "short-name resolution enforced but cannot prompt without a TTY" "$ERR"
check_match "... naming the file" "$CONF" "$ERR"
in_store a nrun run --rm lab/sn:1 true </dev/null
check_eq "run's pull of it: 125" 125 "$RC"
check_match "... with the same words" "cannot prompt without a TTY" "$ERR"
in_store a nrun pull "$R/lab/sn:1"
check_eq "a qualified name is not ambiguous" 0 "$RC"

# on a terminal: asked, the second chosen
out=$(printf '2\n' | NOOK_ROOT=$T_SCRATCH/store-b timeout 60 script -qec "$NOOK pull lab/sn:1" /dev/null 2>&1)
check_match "on a terminal: the candidates are listed" "2\) $R/lab/sn" "$out"
in_store b nrun images -q lab/sn:1
check_match "... and the chosen registry's image pulled" '^[0-9a-f]{12}$' "$OUT"

# an alias is not ambiguous
cat >"$CONF" <<CONF
unqualified-search-registries = ["$closed", "$R"]
short-name-mode = "enforcing"
[aliases]
"lab/sn" = "$R/lab/sn"
CONF
in_store c nrun pull lab/sn:1 </dev/null
check_eq "enforcing with an alias for the name: pulled" 0 "$RC"

# permissive: tried in order (the closed port first, then the registry)
cat >"$CONF" <<CONF
unqualified-search-registries = ["$closed", "$R"]
short-name-mode = "permissive"
CONF
in_store d nrun pull lab/sn:1 </dev/null
check_eq "permissive: the search registries in order, pulled" 0 "$RC"

# a bad mode: the file is left out with a warning naming it (as any unreadable file)
cat >"$CONF" <<CONF
short-name-mode = "strict"
CONF
nrun info
check_match "a bad short-name-mode is named" 'short-name-mode must be' "$OUT$ERR"
done_testing
