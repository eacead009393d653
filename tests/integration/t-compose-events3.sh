#!/usr/bin/env bash
# t-compose-events3.sh: the events Docker records that nook did not, and one it does not:
# - exec -d (and compose exec -d): exec_die with the command's exitCode once it ends (Docker's
#   daemon sees every exec's end), without holding the caller's output open;
# - image events carry the image's labels (Docker's LogImageEvent copies Config.Labels
#   while the image exists: tag, save, untag, load; not delete);
# - network disconnect of a stopped container: no event (Docker's DisconnectFromNetwork only
#   drops it from the container's settings), and it does not join that network at start;
# - compose: a healthcheck with start_period and start_interval serves depends_on
#   service_healthy (the worker starts once api is healthy).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

evs() { "$NOOK" events --since 0 --until 0s "$@"; }

# ---- exec -d: exec_die once the command ends, its exit code
nrun run -d --name e3x -l team=e3 busybox sleep 1000
check_eq "run -d" 0 "$RC"
nrun exec -d e3x sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 5'
check_eq "exec -d returns 0" 0 "$RC"
started() { evs --filter container=e3x --format '{{.Action}}' | grep -q '^exec_start: sh -c while'; }
wait_until "exec -d's exec_start" 30 started
die_count() { evs --filter container=e3x --filter event=exec_die --format '{{.Action}}' | grep -c '^exec_die$'; }
check_eq "no exec_die while the detached command runs" 0 "$(die_count)"
nrun exec e3x sh -c ': >/tmp/go'
check_eq "the gate opened" 0 "$RC"
# (that exec's own exec_die, then the detached command's)
two_dies() { [ "$(die_count)" -ge 2 ]; }
wait_until "the detached command's exec_die" 30 two_dies
nrun events --since 0 --until 0s --filter container=e3x --filter event=exec_die \
  --format '{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.team}}|{{.Actor.Attributes.execID}}'
check_match "exec -d's exec_die: exitCode 5, the container's labels, an execID" \
  "^5\\|e3\\|[0-9a-f]{64}\$" "$(printf '%s\n' "$OUT" | grep '^5|')"
xid=$(printf '%s\n' "$OUT" | grep '^5|' | cut -d'|' -f3)
nrun events --since 0 --until 0s --filter container=e3x --format '{{.Action}}|{{.Actor.Attributes.execID}}'
check_eq "exec_create, exec_start, exec_die of the detached exec share its execID" \
  "exec_create: sh -c while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 5|$xid${NL}exec_start: sh -c while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 5|$xid${NL}exec_die|$xid" \
  "$(printf '%s\n' "$OUT" | grep "|$xid\$")"
# a command substitution ends with exec -d itself (nothing keeps its pipe open)
out=$(timeout 30 "$NOOK" exec -d e3x sleep 900 2>&1; echo "rc=$?")
check_eq "\$(exec -d ...) returns at once" "rc=0" "$out"
# the container removed under a running exec -d: its exec_die says 137, the removal is whole
nrun rm -f e3x
check_eq "rm -f with an exec -d running" 0 "$RC"
killed() { evs --filter container=e3x --filter event=exec_die --format '{{.Actor.Attributes.exitCode}}' | grep -qx 137; }
wait_until "the killed exec -d's exec_die (137)" 30 killed
nrun inspect e3x
check_eq "the container is gone" 1 "$RC"

# ---- image events: the image's labels (not on delete: the image is gone)
mkdir -p "$T_SCRATCH/ctx" && printf 'FROM busybox\nLABEL e3.label=yes\n' >"$T_SCRATCH/ctx/Dockerfile"
nrun build -q -t e3img:1 "$T_SCRATCH/ctx"
check_eq "build" 0 "$RC"
iid=$OUT
nrun tag e3img:1 e3img:2
nrun save -o "$T_SCRATCH/e3.tar" e3img:2
check_eq "save" 0 "$RC"
nrun rmi e3img:2
check_eq "rmi of one tag of two" 0 "$RC"
nrun load -i "$T_SCRATCH/e3.tar"
check_eq "load" 0 "$RC"
nrun rmi -f e3img:1 e3img:2
check_eq "rmi of the image" 0 "$RC"
nrun events --since 0 --until 0s --filter type=image --format '{{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}'
mine=$(printf '%s\n' "$OUT" | grep " $iid ")
check_match "build's tag: the label and the name" \
  "^tag $iid \\{\"e3.label\":\"yes\",\"name\":\"e3img:1\"\\}\$" "$(printf '%s\n' "$mine" | grep -m1 '^tag ')"
check_match "tag: the label" "^tag $iid \\{\"e3.label\":\"yes\",\"name\":\"e3img:2\"\\}\$" \
  "$(printf '%s\n' "$mine" | grep '^tag .*e3img:2')"
check_match "save: the label" "^save $iid \\{\"e3.label\":\"yes\",\"name\":\"$iid\"\\}\$" \
  "$(printf '%s\n' "$mine" | grep '^save ')"
check_match "untag: the label (the image is still there)" \
  "^untag $iid \\{\"e3.label\":\"yes\",\"name\":\"$iid\"\\}\$" "$(printf '%s\n' "$mine" | grep -m1 '^untag ')"
check_match "load: the label" "^load $iid \\{\"e3.label\":\"yes\",\"name\":\"$iid\"\\}\$" \
  "$(printf '%s\n' "$mine" | grep '^load ')"
check_match "delete: the name alone (the image is gone)" "^delete $iid \\{\"name\":\"$iid\"\\}\$" \
  "$(printf '%s\n' "$mine" | grep '^delete ')"

# ---- network disconnect of a stopped container: no event, as Docker; not joined at start
nrun network create e3net
check_eq "network create" 0 "$RC"
nrun run -d --name e3n --network e3net busybox sleep 1000
cid=$OUT
nrun network create e3net2
nrun network connect e3net2 e3n
check_eq "network connect (running)" 0 "$RC"
nrun stop -t 0 e3n
check_eq "stop" 0 "$RC"
left() { [ "$(evs --filter type=network --filter network=e3net2 --format '{{.Action}} {{.Actor.Attributes.container}}' |
  grep -c "^disconnect $cid\$")" -ge 1 ]; }
wait_until "the stop's disconnect from e3net2" 30 left
nrun network disconnect e3net2 e3n
check_eq "network disconnect of the stopped container" 0 "$RC"
nrun events --since 0 --until 0s --filter type=network --filter network=e3net2 --format '{{.Action}}'
check_eq "e3net2: create, connect, the stop's disconnect; none for the stopped container's" \
  "create${NL}connect${NL}disconnect" "$OUT"
nrun start e3n
check_eq "start" 0 "$RC"
nrun inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' e3n
check_eq "started again: on e3net only" "e3net " "$OUT"
nrun events --since 0 --until 0s --filter type=network --filter network=e3net2 --format '{{.Action}}'
check_eq "e3net2: nothing at the start" "create${NL}connect${NL}disconnect" "$OUT"
nrun rm -f e3n
nrun network rm e3net e3net2
check_eq "network rm" 0 "$RC"

# ---- compose: start_period + start_interval, depends_on service_healthy; compose exec -d
P=$T_SCRATCH/proj
mkdir -p "$P"
cat >"$P/compose.yaml" <<'YAML'
name: e3c
services:
  api:
    image: busybox
    command: sleep 1000
    init: true
    healthcheck:
      # the probe at the start fails (and counts for nothing), the next one succeeds
      test: ["CMD-SHELL", "test -e /tmp/probed || { touch /tmp/probed; exit 1; }"]
      interval: 1h
      start_period: 1h
      start_interval: 100ms
  worker:
    image: busybox
    command: sleep 1000
    init: true
    depends_on:
      api:
        condition: service_healthy
YAML
cd "$P" || exit 1
# (interval 1h: without start_interval's probes in the start period, api's second probe
# would come an hour later, and up would not return)
NOOK_RUN_TIMEOUT=120 nrun compose up -d
check_eq "up -d: api healthy through start_interval's probes, worker started" 0 "$RC"
check_match "the worker waited for api's health" "Container e3c-api-1  Healthy" "$ERR"
nrun compose ps --format '{{.Service}} {{.State}} {{.Health}}'
check_eq "ps" "api running healthy${NL}worker running " "$OUT"
nrun compose exec -d api sh -c 'exit 7'
check_eq "compose exec -d" 0 "$RC"
seven() { evs --filter container=e3c-api-1 --filter event=exec_die --format '{{.Actor.Attributes.exitCode}}' | grep -qx 7; }
wait_until "compose exec -d's exec_die (7)" 30 seven
nrun compose down -t 0
check_eq "down" 0 "$RC"

done_testing
