#!/usr/bin/env bash
# t-compose-up2.sh: `nook compose up` in the foreground with --abort-on-container-exit
# --exit-code-from (CI's pattern) and its prefixed output; two projects with the same
# service names side by side; secrets and configs with their mode, read-only, in no
# layer; what cannot run rootless refused before anything is created; SIGKILL of nook
# during `up` then `down` leaves nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# --- CI's pattern
C=$T_SCRATCH/ci
mkdir -p "$C"
cat >"$C/compose.yaml" <<'YAML'
services:
  srv:
    image: busybox
    command: sleep 1000
  tests:
    image: busybox
    command: sh -c 'echo testing; exit 7'
    depends_on: [srv]
YAML
cd "$C" || exit 1
nrun compose -p ci up --abort-on-container-exit --exit-code-from tests
check_eq "up --abort-on-container-exit --exit-code-from returns the service's code" 7 "$RC"
check_match "its output prefixed with the container's name" 'ci-tests-1 +\| testing' "$OUT"
check_match "the exit is told" 'ci-tests-1 exited with code 7' "$OUT"
nrun ps -q --filter label=com.docker.compose.project=ci
check_eq "the project was stopped" "" "$OUT"
nrun compose -p ci down
check_eq "down of the stopped project" 0 "$RC"

# --- two projects, the same service names
S=$T_SCRATCH/side
mkdir -p "$S"
cat >"$S/compose.yaml" <<'YAML'
services:
  app:
    image: busybox
    command: sleep 1000
YAML
cd "$S" || exit 1
nrun compose -p pa up -d
check_eq "project pa up" 0 "$RC"
nrun compose -p pb up -d
check_eq "project pb up beside it" 0 "$RC"
a_ip=$("$NOOK" compose -p pa exec -T app sh -c "nslookup app 2>/dev/null | grep '^Address: ' | cut -d' ' -f2")
b_ip=$("$NOOK" compose -p pb exec -T app sh -c "nslookup app 2>/dev/null | grep '^Address: ' | cut -d' ' -f2")
own_a=$("$NOOK" compose -p pa exec -T app hostname -i)
check_eq "in pa, app is pa's own container" "$own_a" "$a_ip"
check_match "in pb, app resolves too" '^[0-9.]+$' "$b_ip"
nrun compose -p pa exec -T app nslookup pb-app-1
check_fail "pa does not see pb's container" test "$RC" = 0
nrun compose -p pa down
check_eq "pa down" 0 "$RC"
nrun ps --format '{{.Names}}' --filter label=com.docker.compose.project=pb
check_eq "pb still runs" "pb-app-1" "$OUT"
nrun compose -p pb down
check_eq "pb down" 0 "$RC"

# --- secrets and configs
K=$T_SCRATCH/sec
mkdir -p "$K"
printf 's3cret-file' >"$K/pw.txt"
cat >"$K/compose.yaml" <<'YAML'
services:
  app:
    image: busybox
    command: sleep 1000
    secrets:
      - pw
      - source: token
        target: tok
        mode: 0400
    configs:
      - source: conf
        target: /etc/app.conf
secrets:
  pw:
    file: ./pw.txt
  token:
    environment: TOKEN
configs:
  conf:
    content: "key=value"
YAML
cd "$K" || exit 1
TOKEN=tok-from-env nrun compose -p sec up -d
check_eq "up with secrets and a config" 0 "$RC"
nrun compose -p sec exec -T app cat /run/secrets/pw
check_eq "a file secret at /run/secrets/NAME" "s3cret-file" "$OUT"
nrun compose -p sec exec -T app sh -c 'cat /run/secrets/tok; echo; stat -c %a /run/secrets/tok'
check_eq "an environment secret at its target, with its mode" "tok-from-env${NL}400" "$OUT"
nrun compose -p sec exec -T app cat /etc/app.conf
check_eq "a content config at its target" "key=value" "$OUT"
nrun compose -p sec exec -T app sh -c 'echo x >/run/secrets/pw'
check_fail "secrets are read-only" test "$RC" = 0
"$NOOK" export sec-app-1 >"$T_SCRATCH/sec.tar" 2>/dev/null
check_no_match "no secret in the container's filesystem layers" 's3cret-file|tok-from-env' \
  "$(tar -xOf "$T_SCRATCH/sec.tar" 2>/dev/null | grep -a -o 's3cret-file\|tok-from-env' | head -1)"
nrun compose -p sec down
check_eq "down with secrets" 0 "$RC"
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  cat >"$K/compose.yaml" <<'YAML'
services:
  app:
    image: busybox
    command: sleep 1000
    secrets:
      - source: pw
        uid: "1000"
        gid: "1001"
        mode: 0440
secrets:
  pw:
    file: ./pw.txt
YAML
  nrun compose -p sec2 up -d
  check_eq "up with a secret's uid and gid" 0 "$RC"
  nrun compose -p sec2 exec -T app stat -c '%u %g %a' /run/secrets/pw
  check_eq "the secret has its uid, gid and mode in the container" "1000 1001 440" "$OUT"
  nrun compose -p sec2 exec -T -u 1000 app cat /run/secrets/pw
  check_eq "its user reads it" "s3cret-file" "$OUT"
  nrun compose -p sec2 exec -T -u 1002:1002 app cat /run/secrets/pw
  check_fail "another user does not" test "$RC" = 0
  nrun compose -p sec2 down
  check_eq "down" 0 "$RC"
fi

# --- refused before anything is created
R=$T_SCRATCH/low
mkdir -p "$R"
cat >"$R/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    command: sleep 1000
    ports: ["80:80"]
YAML
cd "$R" || exit 1
start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$start" -gt 80 ]; then
  nrun compose -p low up -d
  check_eq "a port below ip_unprivileged_port_start: exit 1" 1 "$RC"
  check_match "the error names the service, the sysctl and suggests 8080:80" \
    'service "web".*ip_unprivileged_port_start.*8080:80' "$ERR"
  nrun network ls --format '{{.Name}}'
  check_no_match "nothing was created" 'low_default' "$OUT"
else
  ok "# SKIP ip_unprivileged_port_start is $start here"
fi
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  cat >"$R/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    command: sleep 1000
    user: "1000"
YAML
  nrun compose -p low up -d
  check_eq "user: without a subordinate range: exit 1" 1 "$RC"
  check_match "the error says why" 'service "web": user: this user has no subordinate id range' "$ERR"
fi

# --- SIGKILL of nook during up, then down
X=$T_SCRATCH/kill
mkdir -p "$X"
cat >"$X/compose.yaml" <<'YAML'
services:
  a:
    image: busybox
    command: sleep 1000
    healthcheck:
      test: ["CMD", "false"]
      interval: 1h
  b:
    image: busybox
    command: sleep 1000
    depends_on:
      a: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "true"]
  c:
    image: busybox
    command: sleep 1000
    depends_on: [b]
YAML
cd "$X" || exit 1
"$NOOK" compose -p kl up -d >"$T_SCRATCH/kl.out" 2>"$T_SCRATCH/kl.err" </dev/null &
up=$!
# a is not healthy for an hour: up waits there; killed while it waits
wait_until "up reaches its wait for a" 30 grep -q 'kl-a-1  Waiting' "$T_SCRATCH/kl.err"
kill -9 "$up"
wait "$up" 2>/dev/null
mkdir -p "$T_SCRATCH/empty"
cd "$T_SCRATCH/empty" || exit 1
nrun compose -p kl down -v
check_eq "down -p NAME after a killed up, without the file" 0 "$RC"
cd "$X" || exit 1
nrun ps -a -q --filter label=com.docker.compose.project=kl
check_eq "no container left" "" "$OUT"
nrun network ls --format '{{.Name}}'
check_no_match "no network left" 'kl_default' "$OUT"

# --- SIGKILL of nook while a container is being created (the hooked build stops there)
if has_hooked; then
  H=$T_SCRATCH/hooks
  mkdir -p "$H"
  mkfifo "$H/container-created.reached" "$H/container-created.go"
  cat >"$X/compose.yaml" <<'YAML'
services:
  a:
    image: busybox
    command: sleep 1000
YAML
  NOOK_TEST_HOOK_DIR=$H "$NOOK_HOOKED" compose -p kh up -d >/dev/null 2>&1 </dev/null &
  up=$!
  timeout 30 cat "$H/container-created.reached" >/dev/null
  kill -9 "$up"
  wait "$up" 2>/dev/null
  nrun compose -p kh down -v
  check_eq "down after nook was killed during a creation" 0 "$RC"
  nrun ps -a -q --filter label=com.docker.compose.project=kh
  check_eq "no container left" "" "$OUT"
  # (the bracket: pgrep must not find the sh that runs it)
  wait_until "nothing goes on creating" 60 sh -c "! pgrep -u $(id -u) -f 'compose -p k[h] up' >/dev/null" &&
    ok "nothing goes on creating after the kill"
fi

done_testing
