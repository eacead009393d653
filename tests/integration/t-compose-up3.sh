#!/usr/bin/env bash
# t-compose-up3.sh: the other verbs of `nook compose` on a project: create, start, stop,
# restart, kill, pause, unpause, rm, wait; run with its dependencies, -e, --entrypoint;
# names that resolve (container_name, aliases, links); up --wait failing on a container
# that exits; foreground up stopped by SIGINT.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

V=$T_SCRATCH/verbs
mkdir -p "$V"
cat >"$V/compose.yaml" <<'YAML'
name: vb
services:
  db:
    image: busybox
    command: sleep 1000
    container_name: the-db
    networks:
      default:
        aliases: [database]
  app:
    image: busybox
    command: sleep 1000
    depends_on: [db]
    links: ["db:legacy"]
  tool:
    image: busybox
    profiles: [debug]
    command: echo tool-ran
YAML
cd "$V" || exit 1
state() { "$NOOK" inspect --format '{{.State.Status}}' "$1" 2>/dev/null; }
is_state() { [ "$(state "$1")" = "$2" ]; }

nrun compose create
check_eq "create" 0 "$RC"
check_eq "create makes the containers, not started" "created created" "$(state the-db) $(state vb-app-1)"
nrun compose start
check_eq "start" 0 "$RC"
check_eq "both running" "running running" "$(state the-db) $(state vb-app-1)"
nrun compose exec -T app sh -c 'for n in the-db database legacy db; do nslookup $n >/dev/null 2>&1 && echo $n; done'
check_eq "container_name, aliases, links and the service name resolve" \
  "the-db${NL}database${NL}legacy${NL}db" "$OUT"
nrun compose pause app
check_eq "pause app" "paused" "$(state vb-app-1)"
nrun compose unpause app
check_eq "unpause app" "running" "$(state vb-app-1)"
nrun compose stop app
check_eq "stop app" "exited running" "$(state vb-app-1) $(state the-db)"
nrun compose rm -f
check_eq "rm removes stopped containers only" "running" "$(state the-db)"
check_eq "... app is gone" "" "$(state vb-app-1)"
nrun compose up -d
nrun compose restart db
check_eq "restart" 0 "$RC"
check_match "... says so" 'Container the-db  Started' "$ERR"
nrun compose kill app
check_eq "kill" 0 "$RC"
wait_until "app killed" 60 is_state vb-app-1 exited && ok "kill app"
nrun compose run --rm -T -e FOO=bar --entrypoint sh app -c 'echo $FOO; nslookup db >/dev/null && echo db-ok'
check_eq "run --rm with -e, --entrypoint, the service's network" "bar${NL}db-ok" "$OUT"
nrun compose stop
nrun compose run --rm -T app true
check_eq "run starts the service's dependencies" "running" "$(state the-db)"
nrun compose run --rm -T tool
check_eq "run of a service of a profile not enabled" "tool-ran" "$OUT"
check_eq "up did not make it" "" "$(state vb-tool-1)"
nrun compose up -d tool
check_eq "up SERVICE of a profile not enabled" 0 "$RC"
wait_until "it ran" 60 is_state vb-tool-1 exited && ok "up SERVICE made and ran it"
nrun compose stop
check_eq "stop all" "exited" "$(state the-db)"
nrun compose down
check_eq "down" 0 "$RC"
check_eq "down removed the container of a profile not enabled" "" "$(state vb-tool-1)"

# --- tty: true and stdin_open, detached from a pipe (run -dit needs no terminal)
T=$T_SCRATCH/tty
mkdir -p "$T"
cat >"$T/compose.yaml" <<'YAML'
name: tt
services:
  a:
    image: busybox
    command: sh -c 'test -t 1 && echo has-tty; exec sleep 1000'
    tty: true
    stdin_open: true
YAML
cd "$T" || exit 1
nrun compose up -d
check_eq "up -d of a service with tty: true from a pipe" 0 "$RC"
has_tty() { "$NOOK" logs tt-a-1 2>/dev/null | grep -q has-tty; }
wait_until "its command has a terminal" 60 has_tty && ok "its command has a terminal"
nrun compose down
check_eq "down" 0 "$RC"

# --- up --wait on a container that exits
W=$T_SCRATCH/wait
mkdir -p "$W"
cat >"$W/compose.yaml" <<'YAML'
name: wt
services:
  bad:
    image: busybox
    command: sh -c 'exit 3'
    restart: "no"
    healthcheck: # "starting" for an hour (the probe at the start fails and counts for
      # nothing): --wait waits until the container has exited
      test: ["CMD", "false"]
      interval: 1h
  good:
    image: busybox
    command: sleep 1000
YAML
cd "$W" || exit 1
nrun compose up -d --wait
check_eq "up --wait fails when a container exits" 1 "$RC"
check_match "naming it" 'wt-bad-1 exited \(3\)' "$ERR"
nrun compose wait bad
check_eq "compose wait returns the exit code" 3 "$RC"
nrun compose down
check_eq "down" 0 "$RC"

# --- foreground up, SIGINT
F=$T_SCRATCH/fg
mkdir -p "$F"
cat >"$F/compose.yaml" <<'YAML'
name: fg
services:
  one:
    image: busybox
    command: sh -c 'echo ready-one; exec sleep 1000'
  two:
    image: busybox
    command: sh -c 'echo ready-two; exec sleep 1000'
YAML
cd "$F" || exit 1
"$NOOK" compose up >"$T_SCRATCH/fg.out" 2>"$T_SCRATCH/fg.err" </dev/null &
up=$!
wait_until "foreground up shows both services' output" 30 \
  sh -c "grep -q 'fg-one-1 *| ready-one' '$T_SCRATCH/fg.out' && grep -q 'fg-two-1 *| ready-two' '$T_SCRATCH/fg.out'" &&
  ok "foreground up shows both services' output, prefixed"
kill -INT "$up"
wait_until "up ends after SIGINT" 30 pid_ended "$up" && ok "up ends after SIGINT"
wait "$up" 2>/dev/null
check_match "it stopped gracefully" 'Gracefully stopping' "$(cat "$T_SCRATCH/fg.err")"
nrun ps -q --filter label=com.docker.compose.project=fg
check_eq "nothing of the project runs" "" "$OUT"
nrun compose down
check_eq "down" 0 "$RC"

# --- build: sections built when the image is missing or with --build (then recreated)
B=$T_SCRATCH/bld
mkdir -p "$B"
cat >"$B/compose.yaml" <<'YAML'
name: bl
services:
  app:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        COPY v /v
    command: cat /v
YAML
echo one >"$B/v"
cd "$B" || exit 1
nrun compose up
check_eq "up builds the missing image and runs it" 0 "$RC"
check_match "the built content" 'bl-app-1 +\| one' "$OUT"
echo two >"$B/v"
nrun compose up
check_match "without --build the image is kept" 'bl-app-1 +\| one' "$OUT"
nrun compose up --build
check_match "up --build rebuilds and recreates" 'bl-app-1 +\| two' "$OUT"
nrun compose down --rmi local
check_eq "down --rmi local" 0 "$RC"
nrun images --format '{{.Repository}}'
check_no_match "removes the built image" 'bl-app' "$OUT"

done_testing
