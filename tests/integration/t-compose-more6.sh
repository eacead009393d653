#!/usr/bin/env bash
# t-compose-more6.sh: compose watch (develop.watch): sync into the running container (a
# new file, a file in a new directory, a deletion), ignore, sync+restart; ended by SIGINT.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/w
mkdir -p "$P/src" "$P/conf" "$P/m"
cd "$P" || exit 1
echo v0 >conf/c.txt
cat >compose.yaml <<YAML
name: wa
services:
  app:
    image: busybox
    command: sh -c 'echo x >>/m/starts; exec sleep 1000'
    volumes: ["$P/m:/m"]
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
          ignore: ["*.tmp", "skip/"]
        - path: ./conf
          action: sync+restart
          target: /etc/conf
YAML
in_app() { "$NOOK" compose exec -T app sh -c "$1" 2>/dev/null; }
has() { [ "$(in_app "cat $1")" = "$2" ]; }
starts() { [ "$(wc -l <"$P/m/starts" | tr -d ' ')" = "$1" ]; }

"$NOOK" compose watch >"$T_SCRATCH/watch.log" 2>&1 &
wpid=$!
enabled() { grep -q 'Watch enabled' "$T_SCRATCH/watch.log"; }
wait_until "watch brought the project up and watches" 60 enabled && ok "watch enabled"
wait_until "app started" 60 starts 1 && ok "app started once"

echo hello >src/a.txt
wait_until "a new file is synced" 60 has /app/a.txt hello && ok "a new file is synced"
echo junk >src/x.tmp
mkdir -p src/skip src/sub
echo no >src/skip/s.txt
echo deep >src/sub/d.txt
wait_until "a file in a new directory is synced" 60 has /app/sub/d.txt deep && ok "a file in a new directory is synced"
check_eq "ignored paths are not synced" "" "$(in_app 'ls /app/x.tmp /app/skip 2>/dev/null')"
rm src/a.txt
gone() { [ -z "$(in_app 'ls /app/a.txt 2>/dev/null')" ]; }
wait_until "a deletion is synced" 60 gone && ok "a deletion is synced"

echo v1 >conf/c.txt
wait_until "sync+restart: synced" 60 has /etc/conf/c.txt v1 && ok "sync+restart: the file synced"
wait_until "sync+restart: restarted" 60 starts 2 && ok "sync+restart: the container restarted"

kill -INT "$wpid"
wrc=0
wait "$wpid" || wrc=$?
check_eq "watch ends on SIGINT with 0" 0 "$wrc"
nrun compose down
check_eq "down" 0 "$RC"

cat >"$T_SCRATCH/nodev.yaml" <<'YAML'
name: nd
services:
  a:
    image: busybox
YAML
nrun compose -f "$T_SCRATCH/nodev.yaml" watch
check_eq "watch without a develop section: 1" 1 "$RC"
check_match "... saying so" "consider setting a 'develop' section" "$ERR"

done_testing
