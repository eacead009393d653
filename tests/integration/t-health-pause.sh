#!/usr/bin/env bash
# t-health-pause.sh: healthchecks and pause as Docker's (daemon/health.go
# updateHealthMonitor: no monitor while paused): a probe in flight when the container is
# paused is cancelled (its process gone, no result recorded, the status kept); after
# unpause probes run again. Events polled with a deadline, no timing asserted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

vol=$T_SCRATCH/hp
mkdir -p "$vol"
chmod 777 "$vol"
mark="sleep 3$$"
nrun run -d --name hp1 -v "$vol:/v" --health-cmd "touch /v/started; exec $mark" \
  --health-interval 200ms --health-timeout 1h --health-retries 1 busybox sleep 1000
check_eq "run -d with a probe that blocks" 0 "$RC"
started() { [ -e "$vol/started" ]; }
wait_until "the probe is in flight" 30 started
probe_alive() { pgrep -f "^$mark\$" >/dev/null; }
wait_until "its process is seen" 30 probe_alive
nrun pause hp1
check_eq "pause" 0 "$RC"
probe_gone() { ! probe_alive; }
wait_until "the probe in flight is cancelled by pause" 30 probe_gone
nrun inspect -f '{{.State.Status}} {{.State.Health.Status}} {{len .State.Health.Log}}' hp1
check_eq "paused, health still starting, no result recorded" "paused starting 0" "$OUT"
rm -f "$vol/started"
nrun unpause hp1
check_eq "unpause" 0 "$RC"
wait_until "after unpause a probe runs again" 30 started
"$NOOK" rm -f hp1 >/dev/null
wait_until "rm -f ends the probe" 30 probe_gone
done_testing
