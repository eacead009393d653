#!/usr/bin/env bash
# t-compose-up.sh: `nook compose up/exec/down` of a three-service project (web with a
# published port and a bind volume, api, a worker that waits for api to be healthy):
# up -d --wait, web on the host's loopback, names between the services, exec and its
# status, Compose's labels, a second up that recreates nothing, a changed service
# recreated and an unchanged one not, scale to 3 and back, down -v leaving no container,
# network, volume or process.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/proj
mkdir -p "$P/html"
echo hello-web >"$P/html/index.html"
# a port of this user's own (two users' runs never share one)
PORT=$((20000 + $(id -u) % 1000 * 7))
write_compose() { # $1: api's MODE
  cat >"$P/compose.yaml" <<YAML
name: cup
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    ports: ["127.0.0.1:$PORT:80"]
    volumes: ["./html:/www:ro", "data:/data"]
  api:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo api-ok >/w/index.html && exec httpd -f -p 8000 -h /w"]
    environment:
      MODE: "$1"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8000/"]
      interval: 1s
      retries: 30
  worker:
    image: busybox
    command: sleep 1000
    depends_on:
      api: {condition: service_healthy}
      web: {condition: service_started}
volumes:
  data:
YAML
}
write_compose one
cd "$P" || exit 1

nrun compose up -d --wait
check_eq "up -d --wait succeeds" 0 "$RC"
check_match "progress lines as Compose's" 'Network cup_default  Created' "$ERR"
check_match "containers named PROJECT-SERVICE-N, started" 'Container cup-worker-1  Started' "$ERR"
check_match "the worker waited for api to be healthy" 'Container cup-api-1  Healthy' "$ERR"
nrun ps --format '{{.Names}} {{.Status}}'
check_match "api is healthy" 'cup-api-1 Up .*\(healthy\)' "$OUT"
check_match "the worker runs" 'cup-worker-1 Up' "$OUT"

body=$(timeout 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET / HTTP/1.0\r\n\r\n' >&3; cat <&3")
check_match "web answers on the host's loopback from its bind volume" 'hello-web' "$body"

nrun compose exec -T worker sh -c 'timeout 30 wget -q -O- http://web/; timeout 30 wget -q -O- http://api:8000/'
check_eq "exec: the worker reaches web and api by service name" "hello-web${NL}api-ok" "$OUT"
nrun compose exec -T worker timeout 30 wget -q -O- http://cup-api-1:8000/
check_eq "... and by container name PROJECT-SERVICE-N" "api-ok" "$OUT"
nrun compose exec worker sh -c 'exit 3'
check_eq "exec returns the command's status (no TTY without one on stdin)" 3 "$RC"
nrun compose exec -T nosuch true
check_eq "exec of an unknown service exits 1" 1 "$RC"

nrun inspect --format '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{index .Config.Labels "com.docker.compose.oneoff"}}' cup-api-1
check_eq "Compose's labels on the container" "cup api 1 False" "$OUT"
nrun inspect --format '{{index .Config.Labels "com.docker.compose.config-hash"}}' cup-api-1
hash=$OUT
nrun compose config --hash api
check_eq "the config-hash label is compose config --hash's" "api $hash" "$OUT"

ids_before=$("$NOOK" ps -q --no-trunc | sort)
nrun compose up -d
check_eq "a second up -d succeeds" 0 "$RC"
check_match "and finds the containers running" 'Container cup-web-1  Running' "$ERR"
check_eq "nothing was recreated" "$ids_before" "$("$NOOK" ps -q --no-trunc | sort)"

web_id=$("$NOOK" inspect --format '{{.Id}}' cup-web-1)
api_id=$("$NOOK" inspect --format '{{.Id}}' cup-api-1)
write_compose two
nrun compose up -d --wait
check_eq "up after a change succeeds" 0 "$RC"
check_match "the changed service is recreated" 'Container cup-api-1  Recreate' "$ERR"
check_eq "the unchanged web keeps its container" "$web_id" "$("$NOOK" inspect --format '{{.Id}}' cup-web-1)"
new_api=$("$NOOK" inspect --format '{{.Id}}' cup-api-1)
check_fail "api has a new container" test "$new_api" = "$api_id"
nrun compose exec -T api sh -c 'echo $MODE'
check_eq "with the new environment" "two" "$OUT"

nrun compose up -d --scale worker=3
check_eq "scale worker=3" 0 "$RC"
nrun ps --format '{{.Names}}' --filter label=com.docker.compose.service=worker
check_eq "three workers" "cup-worker-1 cup-worker-2 cup-worker-3" "$(tr '\n' ' ' <<<"$OUT" | xargs -n1 | sort | xargs)"
nrun compose exec -T web sh -c 'nslookup worker 2>/dev/null | grep -c "^Address: "'
check_eq "the service name resolves to every replica" 3 "$OUT"
nrun compose up -d --scale worker=1
nrun ps -a --format '{{.Names}}' --filter label=com.docker.compose.service=worker
check_eq "scaled back to one" "cup-worker-1" "$OUT"

nrun compose run --rm -T worker sh -c 'echo one-off; exit 5'
check_eq "run --rm returns the command's status" 5 "$RC"
check_match "run prints the command's output" 'one-off' "$OUT"

pids=$("$NOOK" ps -q | while read -r c; do "$NOOK" inspect --format '{{.State.Pid}}' "$c"; done)
nrun compose down -v
check_eq "down -v succeeds" 0 "$RC"
check_match "containers removed in reverse order, worker first" 'cup-worker-1  Removed(.|\n)*cup-api-1  Removed' "$ERR"
nrun ps -a -q --filter label=com.docker.compose.project=cup
check_eq "no container left" "" "$OUT"
nrun network ls --format '{{.Name}}'
check_no_match "no network left" 'cup_default' "$OUT"
nrun volume ls --format '{{.Name}}'
check_no_match "no volume left" 'cup_data' "$OUT"
gone() { for p in $pids; do pid_ended "$p" || return 1; done; }
wait_until "no process of the project left" 60 gone && ok "no process of the project left"

done_testing
