#!/usr/bin/env bash
# t-compose-more5.sh: depends_on restart: true (dependents restarted when compose restarts
# or recreates the dependency), the com.docker.compose.image label (the image's ID),
# --progress quiet|json|tty|plain.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/rs
mkdir -p "$P"
cd "$P" || exit 1
mkdir -p "$P/m"
write() {
  cat >compose.yaml <<YAML
name: rs
services:
  db:
    image: busybox
    command: sh -c 'echo x >>/m/db; exec sleep 1000'
    volumes: ["$P/m:/m"]
    environment: [V=$1]
  app:
    image: busybox
    command: sh -c 'echo x >>/m/app; exec sleep 1000'
    volumes: ["$P/m:/m"]
    depends_on:
      db: {condition: service_started, restart: true}
  other:
    image: busybox
    command: sh -c 'echo x >>/m/other; exec sleep 1000'
    volumes: ["$P/m:/m"]
    depends_on: [db]
YAML
}
started() { wc -l <"$P/m/$1" | tr -d ' '; } # the starts of a service, its command counts them
starts_are() { [ "$(started db) $(started app) $(started other)" = "$1" ]; }
write 1
nrun compose --progress quiet up -d
check_eq "up --progress quiet" 0 "$RC"
check_eq "... prints nothing" "" "$ERR"
wait_until "each service started once" 60 starts_are "1 1 1" && ok "each service started once"
nrun compose restart db
check_eq "restart db" 0 "$RC"
wait_until "db restarted, app (restart: true) too, other not" 60 starts_are "2 2 1" \
  && ok "db restarted, app (restart: true) too, other not"
check_match "... said" 'Container rs-app-1  Started' "$ERR"
write 2
nrun compose up -d
check_eq "up with db changed" 0 "$RC"
wait_until "db recreated: app (restart: true) restarted, other not" 60 starts_are "3 3 1" \
  && ok "db recreated: app (restart: true) restarted, other not"
check_match "... said" 'Container rs-app-1  Restarting' "$ERR"

id=$("$NOOK" image inspect busybox | grep -o '"Id": *"sha256:[0-9a-f]*"' | head -n1 | grep -o 'sha256:[0-9a-f]*')
nrun inspect --format '{{index .Config.Labels "com.docker.compose.image"}}' rs-app-1
check_eq "com.docker.compose.image is the image's ID" "$id" "$OUT"
check_match "... a sha256 digest" '^sha256:[0-9a-f]{64}$' "$OUT"

nrun compose --progress json stop other
check_eq "stop --progress json" 0 "$RC"
check_match "... a JSON object per event" '^\{.*"id": *"Container rs-other-1".*"status": *"Stopped"' "$ERR"
nrun compose --progress tty start other
check_eq "start --progress tty" 0 "$RC"
check_match "... rewrites the line in place" $'\e\\[[0-9]+A.*Container rs-other-1  Started' "$ERR"
nrun compose --progress plain --ansi never stop other
check_eq "stop --progress plain" 0 "$RC"
check_eq "... plain lines" " Container rs-other-1  Stopped" "$ERR"
nrun compose --progress bogus ps
check_eq "--progress bogus: 1" 1 "$RC"
check_match "... naming it" 'unsupported --progress value "bogus"' "$ERR"

nrun compose down
check_eq "down" 0 "$RC"

done_testing
