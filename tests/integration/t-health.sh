#!/usr/bin/env bash
# t-health.sh: healthchecks run by the supervisor (--health-* flags; State.Health in
# inspect; ps "(health: starting)", "(healthy)", "(unhealthy)"; --filter health=; a probe
# past its timeout killed with its children), wait --condition (Docker's not-running,
# next-exit, removed; podman's healthy), restarting shown as such (ps, inspect,
# --filter status=restarting). Health changes are driven by a file the test creates and
# observed by polling inspect with a deadline: no timing is asserted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

health() { "$NOOK" inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null; }
health_is() { [ "$(health "$1")" = "$2" ]; }
status_line() { "$NOOK" ps -a --filter "name=$1" --format '{{.Status}}' | head -1; }
# the nook a `timeout` started in the background ($1: timeout's pid)
child_of() { cut -d' ' -f1 "/proc/$1/task/$1/children" 2>/dev/null; }
# has_fd PID REGEX: one of PID's fds points to something matching REGEX
has_fd() {
  local f
  for f in "/proc/$1/fd/"*; do
    [[ "$(readlink "$f" 2>/dev/null)" =~ $2 ]] && return 0
  done
  return 1
}
waiter_has() { has_fd "$(child_of "$1")" "$2"; }
vol=$T_SCRATCH/hv
mkdir -p "$vol"
chmod 777 "$vol"

# --- the first probe runs as the command starts (podman's; Docker's comes an interval
# later): with an interval of an hour a ready service is healthy at once; a failing first
# probe is logged and counts for nothing (no start period, --health-retries 1: starting)
nrun run -d --name hf1 --health-cmd true --health-interval 1h busybox sleep 1000
check_eq "run -d with an hourly probe" 0 "$RC"
wait_until "a probe as the command starts: healthy with a 1h interval" 30 health_is hf1 healthy
nrun run -d --name hf2 --health-cmd 'echo early; exit 3' --health-interval 1h \
  --health-retries 1 busybox sleep 1000
hf2_logged() { [ "$("$NOOK" inspect -f '{{len .State.Health.Log}}' hf2)" = 1 ]; }
wait_until "a failing first probe is logged" 30 hf2_logged
nrun inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}}' hf2
check_eq "... and counts for nothing: starting, FailingStreak 0" "starting 0 3" "$OUT"
nrun rm -f hf1 hf2
check_eq "rm -f of both" 0 "$RC"

# --- starting -> healthy -> unhealthy, driven by /v/ok. The start period is long, so
# failures before the first success do not count: "starting" holds until /v/ok exists.
nrun run -d --name hc1 -v "$vol:/v" --health-cmd 'echo probe-out; test -e /v/ok' \
  --health-interval 200ms --health-start-period 1h --health-start-interval 200ms \
  --health-retries 1 busybox sleep 1000
check_eq "run -d with --health-cmd starts" 0 "$RC"
check_eq "inspect: Health.Status is starting at first" starting "$(health hc1)"
check_match "ps: (health: starting)" '^Up .* \(health: starting\)$' "$(status_line hc1)"
nrun ps -q --filter health=starting --filter name=hc1
check_match "ps --filter health=starting lists it" '^[0-9a-f]{12}$' "$OUT"
nrun inspect -f '{{json .Config.Healthcheck}}' hc1
check_match "inspect: Config.Healthcheck as Docker records it" \
  '"Test":\["CMD-SHELL","echo probe-out; test -e /v/ok"\]' "$OUT"
check_match "... durations in nanoseconds" '"Interval":200000000' "$OUT"
wait_until "a failing probe is logged while starting" 30 \
  sh -c '"$1" inspect -f "{{len .State.Health.Log}}" hc1 | grep -qv "^0$"' _ "$NOOK"
check_eq "... and does not count in the start period" starting "$(health hc1)"

( timeout 60 "$NOOK" wait --condition healthy hc1 >"$T_SCRATCH/wait-healthy" 2>&1
  echo "rc=$?" >>"$T_SCRATCH/wait-healthy" ) &
wpid=$!
: >"$vol/ok"
wait_until "the container turns healthy once /v/ok exists" 30 health_is hc1 healthy
check_match "ps: (healthy)" '^Up .* \(healthy\)$' "$(status_line hc1)"
nrun ps -q --filter health=healthy --filter name=hc1
check_match "ps --filter health=healthy lists it" '^[0-9a-f]{12}$' "$OUT"
nrun ps -q --filter health=unhealthy --filter name=hc1
check_eq "... health=unhealthy does not" "" "$OUT"
wait "$wpid"
check_eq "wait --condition healthy returns, printing -1 (podman's)" "-1${NL}rc=0" \
  "$(cat "$T_SCRATCH/wait-healthy")"
nrun inspect -f '{{json .State.Health}}' hc1
check_match "Health.Log entries have Start, End, ExitCode, Output" \
  '\{"Start":"[0-9-]+T[0-9:.]+Z","End":"[0-9-]+T[0-9:.]+Z","ExitCode":0,"Output":"probe-out\\n"\}' \
  "$OUT"
check_match "Health.FailingStreak is 0 when healthy" '"FailingStreak":0' "$OUT"

rm -f "$vol/ok"
wait_until "healthy once: a failure counts, unhealthy after --health-retries 1" 30 \
  health_is hc1 unhealthy
check_match "ps: (unhealthy)" '^Up .* \(unhealthy\)$' "$(status_line hc1)"
nrun inspect -f '{{.State.Health.FailingStreak}} {{len .State.Health.Log}}' hc1
check_match "FailingStreak counts, the log keeps at most 5" '^[1-9][0-9]* [1-5]$' "$OUT"
nrun stop -t 1 hc1
check_eq "after the container ends Health reads unhealthy (Docker's)" unhealthy "$(health hc1)"
nrun ps -a -q --filter health=none --filter name=hc1
check_eq "a stopped container with a healthcheck is not health=none" "" "$OUT"
nrun start hc1
check_eq "start: its healthcheck runs again, from starting" "0 starting" "$RC $(health hc1)"
nrun inspect -f '{{.State.Health.FailingStreak}}' hc1
check_eq "... with FailingStreak 0" 0 "$OUT"

# --- a probe past its timeout: -1, Docker's words, and its processes killed. Only the
# first probe sleeps (later ones find /v2/once), so a `sleep 1234` left is one not killed;
# the second makes it healthy, and the next is an hour away: the log stays as it is.
vol2=$T_SCRATCH/hv2
mkdir -p "$vol2"
chmod 777 "$vol2"
nrun run -d --name hc2 -v "$vol2:/v2" \
  --health-cmd 'test -e /v2/once && exit 0; touch /v2/once; sleep 1234' \
  --health-timeout 300ms --health-start-period 1h --health-start-interval 200ms \
  --health-interval 1h busybox sleep 1000
first_timed_out() {
  [ "$("$NOOK" inspect -f '{{(index .State.Health.Log 0).ExitCode}}' hc2 2>/dev/null)" = -1 ]
}
wait_until "a probe past its timeout is logged" 30 first_timed_out
nrun inspect -f '{{(index .State.Health.Log 0).Output}}' hc2
check_eq "... with ExitCode -1 and Docker's message" "Health check exceeded timeout (300ms)" "$OUT"
probe_gone() { ! "$NOOK" exec hc2 ps 2>/dev/null | grep -q 'sleep 1234'; }
wait_until "a timed-out probe's command is killed" 30 probe_gone
"$NOOK" rm -f hc2 >/dev/null

# --- no healthcheck: plain Up, health=none, no Health in inspect
nrun run -d --name hc3 busybox sleep 1000
check_match "without a healthcheck ps says Up only" '^Up [^(]*$' "$(status_line hc3)"
nrun ps -q --filter health=none --filter name=hc3
check_match "... and it is health=none" '^[0-9a-f]{12}$' "$OUT"
nrun inspect -f '{{json .State.Health}}' hc3
check_eq "... and inspect has no State.Health" null "$OUT"
"$NOOK" rm -f hc1 hc3 >/dev/null

# --- the image's HEALTHCHECK: an image made from busybox with one in its config (saved,
# the config edited, loaded back); --health-* flags over it field by field; --no-healthcheck
"$NOOK" save -o "$T_SCRATCH/bb.tar" busybox
python3 - "$T_SCRATCH/bb.tar" "$T_SCRATCH/hc.tar" <<'PY'
import hashlib, io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
data = {m.name: d for m, d in members}
man = json.loads(data["manifest.json"])
cfg = json.loads(data[man[0]["Config"]])
cfg["config"]["Healthcheck"] = {"Test": ["CMD-SHELL", "test -e /v/ok"], "Interval": 200000000,
                                "StartPeriod": 3600000000000, "StartInterval": 200000000,
                                "Retries": 7}
raw = json.dumps(cfg).encode()
name = hashlib.sha256(raw).hexdigest() + ".json"
old = man[0]["Config"]
man[0]["Config"], man[0]["RepoTags"] = name, ["hcimg:latest"]
with tarfile.open(sys.argv[2], "w") as out:
    for m, d in members:
        if m.name in (old, "manifest.json", "repositories"):
            continue
        out.addfile(m, io.BytesIO(d) if d is not None else None)
    for n, d in ((name, raw), ("manifest.json", json.dumps(man).encode())):
        ti = tarfile.TarInfo(n)
        ti.size = len(d)
        out.addfile(ti, io.BytesIO(d))
PY
nrun load -i "$T_SCRATCH/hc.tar"
check_eq "an image with a HEALTHCHECK loads" 0 "$RC"
rm -f "$vol/ok"
nrun run -d --name hi1 -v "$vol:/v" hcimg sleep 1000
check_eq "its healthcheck runs: starting" starting "$(health hi1)"
: >"$vol/ok"
wait_until "the image's healthcheck turns it healthy" 30 health_is hi1 healthy
nrun run -d --name hi2 -v "$vol:/v" --health-retries 2 hcimg sleep 1000
nrun inspect -f '{{json .Config.Healthcheck}}' hi2
check_match "a --health-* flag over the image's: its field replaced" '"Retries":2' "$OUT"
check_match "... the image's other fields kept" '"Test":\["CMD-SHELL","test -e /v/ok"\]' "$OUT"
nrun run -d --name hi3 --no-healthcheck hcimg sleep 1000
check_match "--no-healthcheck: plain Up" '^Up [^(]*$' "$(status_line hi3)"
nrun inspect -f '{{json .Config.Healthcheck.Test}} {{json .State.Health}}' hi3
check_eq "... Test NONE and no State.Health" '["NONE"] null' "$OUT"
"$NOOK" rm -f hi1 hi2 hi3 >/dev/null

# --- flag errors, as Docker gives them (125)
check_status "--health-interval without a unit exits 125" 125 run --rm --health-interval 5 busybox true
check_match "... with Go's message" 'time: missing unit in duration "5"' "$ERR"
check_status "--health-timeout with an unknown unit exits 125" 125 run --rm --health-timeout 5x busybox true
check_match "... naming it" 'unknown unit "x" in duration "5x"' "$ERR"
check_status "--no-healthcheck with --health-cmd exits 125" 125 run --rm --no-healthcheck --health-cmd true busybox true
check_match "... as Docker says it" 'conflicts with --health-\* options' "$ERR"
check_status "--health-retries -1 exits 125" 125 run --rm --health-retries -1 busybox true
check_match "... cannot be negative" 'cannot be negative' "$ERR"
check_status "--filter health=bad is refused" 1 ps --filter health=bad
check_match "... as Docker says it" 'Unrecognised filter value for health: bad' "$ERR"

# --- a foreground --rm run with a healthcheck is supervised (ps shows its health)
gate=$(make_gate fg-gate)
"$NOOK" run --rm -v "$gate:/gate" --health-cmd true --health-interval 200ms busybox \
  sh -c 'read x </gate' >/dev/null 2>&1 &
fgpid=$!
fg_healthy() { "$NOOK" ps --filter health=healthy --format '{{.Status}}' | grep -q healthy; }
wait_until "a foreground --rm run's healthcheck runs" 30 fg_healthy
open_gate "$gate"
wait "$fgpid"
check_eq "... and the run ends normally" 0 "$?"

# --- wait --condition (the waiter is seen connected to the supervisor before the
# container may end: a socket among its fds)
gate=$(make_gate rm-gate)
nrun run -d --rm --name w1 -v "$gate:/gate" busybox sh -c 'read x </gate; exit 4'
timeout 60 "$NOOK" wait --condition removed w1 >"$T_SCRATCH/wait-rm" 2>&1 &
wpid=$!
wait_until "wait --condition removed connects to the supervisor" 30 waiter_has "$wpid" socket:
open_gate "$gate"
wait "$wpid"
check_eq "wait --condition removed prints the exit code once it is gone" "0 4" \
  "$? $(cat "$T_SCRATCH/wait-rm")"
check_status "... and it is gone" 1 inspect w1

gate=$(make_gate next-gate)
nrun create --name w2 -v "$gate:/gate" busybox sh -c 'read x </gate; exit 5'
timeout 60 "$NOOK" wait --condition next-exit w2 >"$T_SCRATCH/wait-next" 2>&1 &
wpid=$!
wait_until "wait --condition next-exit has found w2" 30 waiter_has "$wpid" '/containers$'
nrun start w2
wait_until "... and connects to its supervisor once it runs" 30 waiter_has "$wpid" socket:
open_gate "$gate"
wait "$wpid"
check_eq "wait --condition next-exit of a created container waits for its run's end" \
  "0 5" "$? $(cat "$T_SCRATCH/wait-next")"
nrun wait --condition not-running w2
check_eq "wait --condition not-running of a stopped one returns its code at once" 5 "$OUT"
nrun run -d --name w3 --health-cmd false --health-interval 1h busybox sh -c 'exit 2'
check_status "wait --condition healthy of a container that ends exits 1 (no wait forever)" 1 \
  wait --condition healthy w3
check_match "... saying it exited" 'exited \(2\) before it was healthy' "$ERR"
"$NOOK" rm -f w3 >/dev/null
check_status "wait --condition bad exits 125" 125 wait --condition bad w2
check_match "... naming it" 'invalid condition "bad"' "$ERR"
"$NOOK" rm -f w2 >/dev/null

# --- restarting: Docker's state between two runs of a restart policy
nrun run -d --name r1 --restart always busybox sh -c 'exit 3'
r_listed() { "$NOOK" ps -q --filter status=restarting --filter name=r1 | grep -q .; }
wait_until "ps --filter status=restarting finds a restarting container" 60 r_listed
r_inspect() {
  [ "$("$NOOK" inspect -f '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}' r1)" \
    = "restarting true true" ]
}
wait_until "inspect: restarting, Restarting true, Running true (as Docker)" 60 r_inspect
r_text() { status_line r1 | grep -q '^Restarting (3) .* ago$'; }
wait_until "ps: Restarting (3) ... ago" 60 r_text
# each run's network helper ends before the next run's starts: the supervisor's children
# are the last helper and the init at most (each restart used to leave one more helper)
restarted3() { [ "$("$NOOK" inspect -f '{{.RestartCount}}' r1)" -ge 3 ]; }
wait_until "the restart policy brings it back 3 times" 60 restarted3
sup=$("$NOOK" inspect -f '{{.State.SupervisorPid}}' r1)
few_children() { [ "$(wc -w <"/proc/$sup/task/$sup/children")" -le 2 ]; }
wait_until "restarts leave no network helper behind" 30 few_children

# a published port works again after a restart (the next run's forwarder gets the socket)
www=$T_SCRATCH/www
mkdir -p "$www"
echo served >"$www/index.html"
chmod -R a+rX "$www"
gate=$(make_gate port-gate)
nrun run -d --name rp -p 127.0.0.1::80 --restart on-failure:1 -v "$gate:/gate" -v "$www:/www:ro" \
  busybox sh -c 'httpd -p 80 -h /www; read x </gate; exit 3'
hport=$("$NOOK" port rp 80 | sed 's/.*://')
served() { [ "$(curl -fsS --max-time 3 "http://127.0.0.1:$hport/" 2>/dev/null)" = served ]; }
wait_until "the published port serves the first run" 30 served
open_gate "$gate"
restarted1() { [ "$("$NOOK" inspect -f '{{.RestartCount}} {{.State.Status}}' rp)" = "1 running" ]; }
wait_until "on-failure:1 restarts it" 30 restarted1
wait_until "the published port serves the restarted run" 30 served
"$NOOK" rm -f rp >/dev/null
"$NOOK" rm -f r1 >/dev/null

done_testing
