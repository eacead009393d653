#!/usr/bin/env bash
# t-compose-watch.sh: compose watch as Compose's develop.watch: initial_sync (the path
# copied in before "Watch enabled", ignore honoured), changes acted on in batches (several
# files written while the watcher is stopped: one sync naming them all, one restart),
# sync+exec (the hook's command run after the sync), include.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/w
mkdir -p "$P/src/deep" "$P/conf" "$P/hook" "$P/m" "$P/inc"
cd "$P" || exit 1
echo pre >src/pre.txt
echo no >src/pre.tmp
echo deeper >src/deep/d.txt
echo v0 >conf/c0
cat >compose.yaml <<YAML
name: wb
services:
  app:
    image: busybox
    command: sh -c 'echo x >>/m/starts; exec sleep 1000'
    init: true
    volumes: ["$P/m:/m"]
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
          initial_sync: true
          ignore: ["*.tmp"]
        - path: ./conf
          action: sync+restart
          target: /etc/conf
        - path: ./hook
          action: sync+exec
          target: /hook
          exec:
            command: sh -c 'cat /hook/h.txt >>/m/execd'
        - path: ./inc
          action: sync
          target: /inc
          include: ["*.js"]
YAML
in_app() { "$NOOK" compose exec -T app sh -c "$1" 2>/dev/null; }
has() { [ "$(in_app "cat $1")" = "$2" ]; }
starts() { [ "$(wc -l <"$P/m/starts" | tr -d ' ')" = "$1" ]; }

"$NOOK" compose watch >"$T_SCRATCH/watch.log" 2>&1 &
wpid=$!
enabled() { grep -q 'Watch enabled' "$T_SCRATCH/watch.log"; }
wait_until "watch brought the project up and watches" 60 enabled && ok "watch enabled"
check_eq "initial_sync: a file there before watch started is in the container" pre \
  "$(in_app 'cat /app/pre.txt')"
check_eq "... and one in a directory" deeper "$(in_app 'cat /app/deep/d.txt')"
check_eq "... an ignored one is not" "" "$(in_app 'ls /app/pre.tmp 2>/dev/null')"
wait_until "app started" 20 starts 1 && ok "app started once"

# a batch: the watcher stopped while 4 files are written, so their events are all queued
kill -STOP "$wpid"
for f in a b c d; do echo "$f" >"conf/$f"; done
kill -CONT "$wpid"
wait_until "the batch synced" 20 has /etc/conf/d d && ok "a batch of changes synced"
# sync+exec: acted on after the batch (changes are acted on in order)
echo hi >hook/h.txt
execd() { [ "$(cat "$P/m/execd" 2>/dev/null)" = hi ]; }
wait_until "sync+exec ran its command" 20 execd && ok "sync+exec: the command ran after the sync"
check_eq "sync+exec: the file synced first" hi "$(in_app 'cat /hook/h.txt')"
check_eq "one sync for the 4 changes, naming them" 1 \
  "$(grep -c 'Syncing service "app" after 4 changes were detected' "$T_SCRATCH/watch.log")"
check_eq "one restart for the batch" 1 "$(grep -c 'Restarting' "$T_SCRATCH/watch.log")"
check "... the container started twice in all" starts 2

echo skip >inc/a.css
echo take >inc/a.js
wait_until "include: a matching file synced" 20 has /inc/a.js take && ok "include: a matching file synced"
check_eq "include: another file not synced" "" "$(in_app 'ls /inc/a.css 2>/dev/null')"

kill -INT "$wpid"
wrc=0
wait "$wpid" || wrc=$?
check_eq "watch ends on SIGINT with 0" 0 "$wrc"
nrun compose down -t 0
check_eq "down" 0 "$RC"

done_testing
