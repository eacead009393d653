#!/usr/bin/env bash
# t-top-stats.sh: nook top and nook stats --no-stream of a running foreground container
# (run in the background of this script, synchronised by a ready file), and their
# answers for stopped and unknown containers.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

mkdir -p "$T_SCRATCH/alive" && : >"$T_SCRATCH/alive/run"
"$NOOK" run --rm --name busy -v "$T_SCRATCH/alive:/alive" busybox sh -c \
  'sleep 1000 & echo $! > /alive/sleeper; touch /alive/ready; while [ -e /alive/run ]; do sleep 0.1; done' \
  >/dev/null 2>&1 &
live=$!
if wait_until "the container is ready" 60 test -s "$T_SCRATCH/alive/sleeper" -a -e "$T_SCRATCH/alive/ready"; then
  nrun top busy
  check_eq "top: exit 0" 0 "$RC"
  check_match "top: ps -ef's header" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD' "$OUT"
  check_match "top: the container's PID 1" "${NL}[^ ]+ +[0-9]+ +[0-9]+ .* nook-init" "$OUT"
  check_match "top: its command" "sh -c sleep 1000 &" "$OUT"
  check_match "top: the command's child" ' sleep 1000' "$OUT"
  check_no_match "top: not nook itself" "nook run" "$OUT"
  nrun container top busy
  check_match "container top" ' sleep 1000' "$OUT"

  nrun stats --no-stream
  check_eq "stats --no-stream: exit 0" 0 "$RC"
  check_match "stats: Docker's header" '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS' "$OUT"
  check_match "stats: the row (CPU %, memory / --, --, net, --, pids)" \
    "${NL}[0-9a-f]{12} +busy +[0-9]+\\.[0-9]{2}% +[0-9.]+(B|KiB|MiB) / -- +-- +[0-9.]+k?B / [0-9.]+k?B +-- +[0-9]+" "$OUT"
  check_match "stats: one stderr line says cgroups are not delegated" '^nook: cgroups are not delegated' "$ERR"
  check_eq "... one line" 1 "$(wc -l <<<"$ERR")"
  nrun stats --no-stream --format '{{.Name}} {{.PIDs}}' busy
  pids=${OUT#busy }
  check_match "stats --format: PIDS counts the container's processes" '^busy [0-9]+$' "$OUT"
  if [[ $pids =~ ^[0-9]+$ ]]; then
    check "... at least init, sh and sleep" test "$pids" -ge 3
  fi
  nrun stats --no-stream --format json busy
  check_match "stats --format json" '^\{"Container":"[0-9a-f]{12}".*"MemUsage":".* / --"' "$OUT"
fi
rm -f "$T_SCRATCH/alive/run"
wait "$live"

check_status "a stopped container" 0 run --name stopped busybox true
nrun top stopped
check_eq "top of a stopped container: exit 1" 1 "$RC"
check_match "... Docker's message" 'Error: container [0-9a-f]{64} is not running' "$ERR"
nrun top nosuch
check_match "top of an unknown container" 'No such container: nosuch' "$ERR"
nrun stats --no-stream nosuch
check_eq "stats of an unknown container: exit 1" 1 "$RC"
nrun rm stopped

done_testing
