#!/usr/bin/env bash
# t-compose-view.sh: the read-only compose verbs (ps, ls, logs, top, port, images) over
# containers that carry Docker Compose's labels, made here with `nook run -d --label` as
# `compose up` makes them (so this keeps working once up exists): which project (the
# compose file of the working directory, -p, COMPOSE_PROJECT_NAME), Compose's columns
# and JSON keys, one-off and stopped containers, two projects side by side, prefixed
# logs merged in order, -f following a container that appears later until all end.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/cvt
mkdir -p "$P" "$T_SCRATCH/elsewhere"
cat >"$P/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
  api:
    image: busybox
  worker:
    image: busybox
YAML

# ctr PROJECT SERVICE N [RUN ARGS...] -- COMMAND...: a container as `compose up` names
# and labels it
ctr() {
  local proj=$1 svc=$2 num=$3
  shift 3
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  "$NOOK" run -d --name "$proj-$svc-$num" \
    --label com.docker.compose.project="$proj" --label com.docker.compose.service="$svc" \
    --label com.docker.compose.container-number="$num" --label com.docker.compose.oneoff=False \
    --label com.docker.compose.config-hash=0123abcd \
    --label com.docker.compose.project.working_dir="$P" \
    --label com.docker.compose.project.config_files="$P/compose.yaml" \
    "${args[@]}" busybox "$@" >/dev/null
}

gate=$(make_gate worker-gate)
ctr cvt web 1 -p 127.0.0.1::80 -- sh -c 'echo web-out; echo web-err >&2; exec sleep 1000'
ctr cvt api 1 -- sh -c 'for i in 0 1 2 3 4; do echo "api1 line $i"; done; exec sleep 1000'
ctr cvt api 2 -- sh -c 'echo api2 only; exec sleep 1000'
ctr cvt worker 1 -v "$gate:/gate" -- sh -c 'echo first; read x </gate; echo second'
ctr other web 1 -- sh -c 'echo other project; exec sleep 1000'
# a one-off container (compose run): no number of its own, oneoff=True
"$NOOK" run -d --name cvt-api-run-0a1b2c --label com.docker.compose.project=cvt \
  --label com.docker.compose.service=api --label com.docker.compose.oneoff=True \
  busybox sh -c 'echo one-off' >/dev/null
nrun wait cvt-api-run-0a1b2c
wait_until "every container has written its first lines" 30 sh -c \
  '"$1" logs cvt-worker-1 | grep -q first && "$1" logs cvt-api-1 | grep -q "line 4" &&
   "$1" logs cvt-web-1 2>&1 | grep -q web-err && "$1" logs cvt-api-2 | grep -q api2' _ "$NOOK"

# --- ps: the project of the compose file in the working directory
cd "$P" || exit 1
nrun compose ps
check_eq "compose ps exits 0" 0 "$RC"
check_eq "ps: Compose's columns" "NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS" \
  "$(head -n1 <<<"$OUT" | tr -s ' ')"
check_eq "ps: the project's running containers, by name (no one-off, no other project)" \
  "cvt-api-1 cvt-api-2 cvt-web-1 cvt-worker-1" "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | xargs)"
check_match "ps: the web row shows its published port" 'cvt-web-1 +busybox +"sh -c echo web-out.*" +web .*Up .*127\.0\.0\.1:[0-9]+->80/tcp' "$OUT"

nrun compose ps --format json
check_eq "ps --format json: one object per line" 4 "$(grep -c '^{' <<<"$OUT")"
check_eq "ps --format json: Compose's keys and values" \
  "Command,CreatedAt,ExitCode,Health,ID,Image,Labels,LocalVolumes,Mounts,Name,Names,Networks,Ports,Project,Publishers,RunningFor,Service,Size,State,Status|cvt-web-1|cvt|web|running|0|127.0.0.1|80|tcp|12" \
  "$(grep cvt-web-1 <<<"$OUT" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
p = o["Publishers"][0]
print(",".join(o.keys()) + "|" + "|".join(str(x) for x in
  (o["Name"], o["Project"], o["Service"], o["State"], o["ExitCode"], p["URL"], p["TargetPort"], p["Protocol"], len(o["ID"]))))')"
port=$(grep cvt-web-1 <<<"$OUT" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["Publishers"][0]["PublishedPort"])')

nrun compose ps -q
check_eq "ps -q: full IDs" 4 "$(grep -cE '^[0-9a-f]{64}$' <<<"$OUT")"
nrun compose ps --services
check_eq "ps --services" "api${NL}web${NL}worker" "$OUT"
nrun compose ps --format '{{.Service}}:{{.Name}}' api
check_eq "ps SERVICE: that service's containers, with a Go template" "api:cvt-api-1${NL}api:cvt-api-2" "$OUT"
nrun compose ps nosuch
check_eq "ps of an unknown service exits 1" 1 "$RC"
check_match "... naming it" 'no such service: nosuch' "$ERR"

# --- which project: -p, COMPOSE_PROJECT_NAME, and none at all
cd "$T_SCRATCH/elsewhere" || exit 1
nrun compose -p cvt ps --format '{{.Name}}'
check_eq "-p names the project from another directory" \
  "cvt-api-1${NL}cvt-api-2${NL}cvt-web-1${NL}cvt-worker-1" "$OUT"
COMPOSE_PROJECT_NAME=other nrun compose ps --format '{{.Name}}'
check_eq "COMPOSE_PROJECT_NAME names it when no compose file is found" "other-web-1" "$OUT"
nrun compose ps
check_eq "no compose file and no name: exit 1" 1 "$RC"
check_match "... saying so" 'no configuration file provided' "$ERR"
nrun compose -f "$P/compose.yaml" ps --format '{{.Name}}' web
check_eq "-f names the project's file" "cvt-web-1" "$OUT"
cd "$P" || exit 1

# --- ls
nrun compose ls
check_eq "ls: header" "NAME STATUS CONFIG FILES" "$(head -n1 <<<"$OUT" | tr -s ' ')"
check_match "ls: the project, its running containers counted, its files" \
  "(^|$NL)cvt +running\\(4\\) +$P/compose\\.yaml($NL|$)" "$OUT"
check_match "ls: the other project" "(^|$NL)other +running\\(1\\) " "$OUT"
nrun compose ls --format json --filter name=cvt
check_eq "ls --format json --filter name=" "cvt|running(4)|$P/compose.yaml" \
  "$(python3 -c 'import json,sys; [print(o["Name"]+"|"+o["Status"]+"|"+o["ConfigFiles"]) for o in json.loads(sys.stdin.read())]' <<<"$OUT")"
nrun compose ls -q
check_eq "ls -q" "cvt${NL}other" "$OUT"
nrun compose ls --filter foo=bar
check_eq "ls: an unknown filter is refused" 1 "$RC"

# --- logs: prefixed, aligned, merged in order
nrun compose logs
check_eq "compose logs exits 0" 0 "$RC"
check_match "logs: each line after its container's name, aligned over the containers shown" \
  "^web-1     \\| web-out$NL|${NL}web-1     \\| web-out$NL" "$OUT"
check_eq "logs: every prefix has the same width" 1 \
  "$(grep -oE '^[^|]*\| ' <<<"$OUT" | awk '{print length($0)}' | sort -u | wc -l)"
check_eq "logs: one container's lines in order" \
  "api1 line 0${NL}api1 line 1${NL}api1 line 2${NL}api1 line 3${NL}api1 line 4" \
  "$(grep '^api-1 ' <<<"$OUT" | sed 's/^[^|]*| //')"
check_match "logs: stderr is shown too (on stdout, as Compose)" 'web-1 +\| web-err' "$OUT"
check_no_match "logs: no one-off container, no other project" 'one-off|other project' "$OUT"
check_no_match "logs: no colour when stdout is no terminal" $'\e' "$OUT"
nrun compose logs --no-log-prefix web
check_eq "logs --no-log-prefix SERVICE" "web-out${NL}web-err" "$OUT"
nrun compose logs --tail 2 api
check_eq "logs --tail: the last lines of each container" \
  "api-1  | api1 line 3${NL}api-1  | api1 line 4${NL}api-2  | api2 only" "$(sort <<<"$OUT")"
nrun compose logs --index 2 api
check_eq "logs --index N SERVICE" "api-2  | api2 only" "$OUT"
nrun compose logs -t web
check_match "logs -t: the time after the prefix" '^web-1  \| [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z web-out' "$OUT"

# --- logs -f: follows, takes a container that appears later, ends when all have ended
( timeout 60 "$NOOK" compose logs -f worker >"$T_SCRATCH/follow.out" 2>&1; echo "rc=$?" >>"$T_SCRATCH/follow.out" ) &
fpid=$!
wait_until "logs -f prints what is there" 60 grep -qs 'first' "$T_SCRATCH/follow.out"
ctr cvt worker 2 -- sh -c 'echo from the second worker'
wait_until "logs -f picks up a container of the service that appears later" 30 \
  grep -qs 'worker-2  | from the second worker' "$T_SCRATCH/follow.out"
open_gate "$gate"
wait "$fpid"
f=$(cat "$T_SCRATCH/follow.out")
check_match "logs -f: the rest of a followed container's lines" 'worker-1  \| second' "$f"
check_match "logs -f: says when a container ends" 'worker-1 exited with code 0' "$f"
check_match "logs -f ends once every followed container has ended, status 0" 'rc=0$' "$f"

# --- top, port, images
nrun compose top web
check_eq "top: Compose's columns" "SERVICE # UID PID PPID C STIME TTY TIME CMD" "$(head -n1 <<<"$OUT" | tr -s ' ')"
check_match "top: the service's processes" "${NL}web +1 +.* sleep 1000" "$OUT"
nrun compose port web 80
check_eq "port SERVICE PRIVATE_PORT: the published address" "127.0.0.1:$port" "$OUT"
nrun compose port api 80
check_eq "port: none published exits 1" 1 "$RC"
check_match "... naming the container" 'no port 80/tcp for container cvt-api-1' "$ERR"
nrun compose port nosuch 80
check_match "port of a service with no container" 'service "nosuch" is not running' "$ERR"
nrun compose images
check_eq "images: Compose's columns" "CONTAINER REPOSITORY TAG PLATFORM IMAGE ID SIZE CREATED" \
  "$(head -n1 <<<"$OUT" | tr -s ' ')"
check_match "images: a row per container" "${NL}cvt-web-1 +busybox +latest +linux/" "$OUT"
nrun compose images -q
check_match "images -q: the image ID, once" '^[0-9a-f]{64}$' "$OUT"
nrun compose images --format json
check_eq "images --format json" "busybox latest" \
  "$(python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(*sorted({o["Repository"]+" "+o["Tag"] for o in r}))' <<<"$OUT")"

# --- -a: stopped and one-off containers
nrun compose ps -a --format '{{.Name}} {{.State}} {{.ExitCode}}'
check_match "ps -a: the ended and one-off containers too" "cvt-api-run-0a1b2c exited 0" "$OUT"
check_match "ps -a: with their exit status" "cvt-worker-1 exited 0" "$OUT"
nrun compose ps --status exited --format '{{.Name}}'
check_eq "ps --status exited" "cvt-api-run-0a1b2c${NL}cvt-worker-1${NL}cvt-worker-2" "$OUT"
nrun compose ls -a --filter name=cvt
check_match "ls -a: every state counted (containers of up only: with a config hash)" "cvt +exited\\(2\\), running\\(3\\)" "$OUT"

# --- config --variables: the variables of the files, before interpolation
mkdir -p "$T_SCRATCH/vars"
cat >"$T_SCRATCH/vars/compose.yaml" <<'YAML'
services:
  web:
    image: busybox:${TAG:-latest}
    ports: ["${PORT:?need a port}:80"]
    environment:
      - A=$$NOT_A_VARIABLE
      - B=${EXTRA:+yes}
      - C=$PLAIN
YAML
cd "$T_SCRATCH/vars" || exit 1
nrun compose config --variables
check_eq "config --variables: NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE, by name" \
  "NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE|EXTRA false yes|PLAIN false|PORT true|TAG false latest" \
  "$(sed 's/ *$//' <<<"$OUT" | tr -s ' ' | paste -sd '|')"
nrun compose config --variables --format json
check_eq "config --variables --format json" "EXTRA,PLAIN,PORT,TAG|True|latest" \
  "$(python3 -c 'import json,sys; v=json.loads(sys.stdin.read()); print(",".join(v)+"|"+str(v["PORT"]["Required"])+"|"+v["TAG"]["DefaultValue"])' <<<"$OUT")"
cd "$P" || exit 1

"$NOOK" rm -f cvt-web-1 cvt-api-1 cvt-api-2 cvt-worker-1 cvt-worker-2 cvt-api-run-0a1b2c other-web-1 >/dev/null 2>&1
done_testing
