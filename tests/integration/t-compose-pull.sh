#!/usr/bin/env bash
# t-compose-pull.sh: up pulls a service's missing image before creating anything (as
# Compose's up does), so the container's com.docker.compose.image label is the image's ID
# even in an empty store; pull_policy never and up --pull never leave it alone.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup plain

nrun tag busybox "$R/lab/pl:1"
nrun push "$R/lab/pl:1"
check_eq "push an image to the local registry" 0 "$RC"

P=$T_SCRATCH/proj
mkdir -p "$P"
cd "$P" || exit 1
cat >compose.yaml <<YAML
name: pl
services:
  web:
    image: $R/lab/pl:1
    command: sleep 1000
    init: true
YAML
in_store b nrun compose --progress plain up -d
check_eq "up -d in an empty store" 0 "$RC"
check_match "... pulled the image first" "web  Pulled" "$ERR"
id=$(in_store b "$NOOK" image inspect "$R/lab/pl:1" | grep -o '"Id": *"sha256:[0-9a-f]*"' |
  head -n1 | grep -o 'sha256:[0-9a-f]*')
check_match "the image is in the store" '^sha256:[0-9a-f]{64}$' "$id"
in_store b nrun inspect --format '{{index .Config.Labels "com.docker.compose.image"}}' pl-web-1
check_eq "com.docker.compose.image is the image's ID, not its name" "$id" "$OUT"
check_match "... a sha256 digest" '^sha256:[0-9a-f]{64}$' "$OUT"
in_store b nrun compose --progress plain up -d
check_no_match "a second up does not pull again" "Pulled" "$ERR"
in_store b nrun compose down -t 0
check_eq "down" 0 "$RC"

cat >compose.yaml <<YAML
name: pl2
services:
  web:
    image: $R/lab/pl:1
    command: "true"
    pull_policy: never
YAML
in_store c nrun compose up -d
check_eq "pull_policy: never with the image missing: 1" 1 "$RC"
check_no_match "... nothing pulled" "Pulled" "$ERR"
in_store c nrun compose down
sed -i '/pull_policy/d' compose.yaml
in_store c nrun compose up -d --pull never
check_eq "up --pull never with the image missing: 1" 1 "$RC"
in_store c nrun compose up -d --pull sometimes
check_eq "up --pull with a bad value: 1" 1 "$RC"
check_match "... naming it" 'invalid --pull option "sometimes"' "$ERR"
in_store c nrun compose down

done_testing
