#!/usr/bin/env bash
# t-compose-more4.sh: compose build, push, pull (against Debian's docker-registry on
# loopback), cp both ways, scale up and down (events: t-compose-events.sh).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup plain

P=$T_SCRATCH/proj
mkdir -p "$P"
cd "$P" || exit 1
cat >compose.yaml <<YAML
name: m4
services:
  app:
    image: $R/lab/m4app:1
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        COPY v /v
    command: sleep 1000
YAML
echo one >v
nrun compose build
check_eq "compose build" 0 "$RC"
nrun run --rm "$R/lab/m4app:1" cat /v
check_eq "... built the service's image" "one" "$OUT"
echo two >v
nrun compose build app
check_eq "compose build SERVICE builds again" "0" "$RC"
nrun run --rm "$R/lab/m4app:1" cat /v
check_eq "... with the new content" "two" "$OUT"
nrun compose push
check_eq "compose push" 0 "$RC"
check_match "... says so" "Image $R/lab/m4app:1  Pushed" "$ERR"

Q=$T_SCRATCH/pullproj
mkdir -p "$Q"
cat >"$Q/compose.yaml" <<YAML
name: m4p
services:
  web:
    image: $R/lab/m4app:1
YAML
cd "$Q" || exit 1
in_store b nrun compose pull
check_eq "compose pull" 0 "$RC"
in_store b nrun images --format '{{.Repository}}:{{.Tag}}'
check_match "compose pull put the image into an empty store" "$R/lab/m4app:1" "$OUT"
cat >"$Q/compose.yaml" <<YAML
name: m4p
services:
  web:
    image: $R/lab/nothere:1
YAML
in_store b nrun compose pull
check_eq "compose pull of a missing image: 1" 1 "$RC"
in_store b nrun compose pull --ignore-pull-failures
check_eq "... 0 with --ignore-pull-failures" 0 "$RC"
cd "$P" || exit 1

nrun compose up -d
check_eq "up" 0 "$RC"
nrun compose cp app:/v "$T_SCRATCH/cpout"
check_eq "cp SERVICE:SRC DEST" 0 "$RC"
check_eq "... the content" "two" "$(cat "$T_SCRATCH/cpout")"
echo into >"$T_SCRATCH/in"
nrun compose cp "$T_SCRATCH/in" app:/tmp/in
check_eq "cp SRC SERVICE:DEST" 0 "$RC"
nrun compose exec -T app cat /tmp/in
check_eq "... the content" "into" "$OUT"
nrun compose cp nosuch:/v "$T_SCRATCH/x"
check_eq "cp of an unknown service: 1" 1 "$RC"
check_match "... naming it" 'no such service: nosuch' "$ERR"

running() { "$NOOK" compose ps -q app 2>/dev/null | wc -l; }
nrun compose scale app=3
check_eq "scale app=3" 0 "$RC"
check_eq "... three containers" "3" "$(running | tr -d ' ')"
nrun compose scale app=1
check_eq "scale app=1" 0 "$RC"
check_eq "... one left" "1" "$(running | tr -d ' ')"
nrun compose scale app
check_eq "scale without =N: 1" 1 "$RC"

nrun compose down --rmi all
check_eq "down" 0 "$RC"

done_testing
