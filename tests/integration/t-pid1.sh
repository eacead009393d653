#!/usr/bin/env bash
# t-pid1.sh: who is PID 1. nook's init by default (and with --init); the command itself
# with --init=false, or without --init when the command is /init (s6-overlay's, which
# refuses to run as anything but PID 1); then exec, pause, stop and exit codes work on
# it, and inspect shows HostConfig.Init as given (true, false, or null).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun run --rm busybox sh -c 'echo $$'
check_eq "default: the command is not PID 1 (nook's init is)" "0 2" "$RC $OUT"
nrun run --rm --init busybox sh -c 'echo $$'
check_eq "--init: nook's init is PID 1" "0 2" "$RC $OUT"
nrun run --rm --init=false busybox sh -c 'echo $$'
check_eq "--init=false: the command is PID 1" "0 1" "$RC $OUT"
nrun run --rm --init=false busybox sh -c 'exit 5'
check_eq "... its exit code is the run's" 5 "$RC"
nrun run --rm --init=false busybox /nonexistent
check_eq "... a missing command still exits 127" 127 "$RC"

# s6-overlay's /init must be PID 1 (it checks): an /init command gets PID 1 by itself
s6=$T_SCRATCH/init
printf '#!/bin/sh\n[ $$ = 1 ] || { echo "s6-overlay-suexec: fatal: can only run as pid 1"; exit 100; }\necho s6-ok\n' >"$s6"
chmod 755 "$s6"
nrun run --rm -v "$s6:/init:ro" --entrypoint /init busybox
check_eq "an /init command runs as PID 1 without --init=false" "0 s6-ok" "$RC $OUT"
nrun run --rm --init -v "$s6:/init:ro" --entrypoint /init busybox
check_eq "... --init keeps nook's init even then" 100 "$RC"

# a detached one: exec, pause (PID 1 stopped too), stop (the command gets the signal;
# sleep as PID 1 ignores SIGTERM: killed at the timeout, 137, as Docker)
# (the SIGSTOP fallback, even where a freezer is delegated: t-pause-freezer tests that one)
export NOOK_CGROUP=none
nrun run -d --name p1 --init=false busybox sleep 1000
check_eq "run -d --init=false starts" 0 "$RC"
nrun exec p1 sh -c 'tr "\0" " " </proc/1/cmdline'
check_eq "exec into it: PID 1 is the command" "sleep 1000 " "$OUT"
nrun inspect -f '{{.HostConfig.Init}}' p1
check_eq "inspect: HostConfig.Init false as given" false "$OUT"
pid=$("$NOOK" inspect -f '{{.State.Pid}}' p1)
check_eq "inspect: State.Pid is the command" "sleep" "$(cat "/proc/$pid/comm")"
nrun pause p1
stopped() { [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status")" = T ]; }
wait_until "pause stops PID 1 when it is the command" 30 stopped
nrun unpause p1
check_eq "unpause" 0 "$RC"
nrun stop -t 1 p1
nrun inspect -f '{{.State.ExitCode}}' p1
check_eq "stop: a PID 1 that ignores SIGTERM is killed at the timeout (137)" 137 "$OUT"
nrun start p1
nrun exec p1 sh -c 'tr "\0" " " </proc/1/cmdline'
check_eq "start keeps it PID 1" "sleep 1000 " "$OUT"
"$NOOK" rm -f p1 >/dev/null

nrun run -d --name p2 --init busybox sleep 1000
nrun inspect -f '{{.HostConfig.Init}}' p2
check_eq "inspect: HostConfig.Init true as given" true "$OUT"
nrun run -d --name p3 busybox sleep 1000
nrun inspect -f '{{json .HostConfig.Init}}' p3
check_eq "inspect: HostConfig.Init null when not given" null "$OUT"
"$NOOK" rm -f p2 p3 >/dev/null

# what `info` says of the lifecycle without a daemon
nrun info
check_match "info: PID 1 line" '(^|'"$NL"')PID 1: nook-init .*--init=false' "$OUT"
check_match "info: what starts containers at boot" 'Containers at boot: .*start --all --filter restart-policy=always' "$OUT"
check_match "info: the pause fallback and its differences" 'Pause: SIGSTOP/SIGCONT.*SIGCONT handlers run' "$OUT"
check_match "info: supervisors" 'Supervisors: one nook-supervise process per running container' "$OUT"
check_match "info: healthchecks" 'Healthchecks: run by the container.s supervisor' "$OUT"

done_testing
