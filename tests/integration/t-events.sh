#!/usr/bin/env bash
# t-events.sh: nook events, Docker's: the store's events log written by the verbs and the
# supervisors (container create/start/kill/die/stop/destroy/pause/unpause/restart,
# health_status, network and volume create/destroy), read back with --since/--until,
# followed, filtered (--filter), formatted (json, templates); bounded (rotated past 1 MiB).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# followed from the start of the log: nothing can be missed, whenever it starts reading
"$NOOK" events --since 0 --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' \
  >"$T_SCRATCH/follow.out" 2>"$T_SCRATCH/follow.err" &
fpid=$!

nrun run --rm busybox true
check_eq "run --rm" 0 "$RC"
nrun run -d --name ev1 -l team=a busybox sleep 1000
nrun stop -t 5 ev1
nrun start ev1
nrun pause ev1
nrun unpause ev1
nrun restart -t 5 ev1
nrun rm -f ev1
nrun run -d --name evh --health-cmd true --health-interval 1s busybox sleep 1000
healthy() { "$NOOK" events --since 0 --until 0s --filter container=evh --filter 'event=health_status' |
  grep -q 'health_status: healthy'; }
wait_until "a health_status event" 30 healthy && ok "health_status: healthy recorded"
nrun rm -f evh
nrun network create evnet
nrun network rm evnet
nrun volume create evvol
nrun volume rm evvol

nrun events --since 0 --until 0s --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
check_eq "--since/--until: the past, then it ends" 0 "$RC"
all=$OUT
# the run --rm, in order
first=$(printf '%s\n' "$all" | head -n 4 | awk '{print $1, $2}' | tr '\n' ' ')
check_eq "run --rm: create, start, die, destroy" \
  "container create container start container die container destroy " "$first"
ev1=$(printf '%s\n' "$all" | awk '$3 == "ev1" {print $2}' | tr '\n' ' ')
check_eq "a container's life as Docker records it" \
  "create start kill die stop start pause unpause kill die stop start restart kill die destroy " \
  "$ev1"
check_match "network create and destroy" "network create evnet${NL}network destroy evnet" "$all"
check_match "volume create and destroy" "volume create .*${NL}volume destroy" "$all"

nrun events --since 0 --until 0s --filter container=ev1 --filter event=die \
  --format '{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.team}}'
check_eq "--filter container= and event= (and'ed); exitCode and the labels as attributes" \
  "die 143 a${NL}die 143 a${NL}die 137 a" "$OUT"
nrun events --since 0 --until 0s --filter event=kill --filter container=ev1 \
  --format '{{.Actor.Attributes.signal}}'
check_eq "kill events carry the signal" "15${NL}15${NL}9" "$OUT"
nrun events --since 0 --until 0s --filter type=network --filter type=volume --format '{{.Type}}'
check_eq "one key's values or'ed" "network${NL}network${NL}volume${NL}volume" "$OUT"
nrun events --since 0 --until 0s --filter label=team=a --filter event=create --format '{{.Actor.Attributes.name}}'
check_eq "--filter label=K=V" "ev1" "$OUT"
nrun events --since 0 --until 0s --filter event=destroy --format json
check_match "--format json: Docker's message" \
  '^\{"Type":"container","Action":"destroy","Actor":\{"ID":"[0-9a-f]{64}","Attributes":\{.*\}\},"scope":"local","time":[0-9]+,"timeNano":[0-9]+,"status":"destroy","id":"[0-9a-f]{64}","from":"busybox"\}' "$OUT"
nrun events --since 0 --until 0s --filter event=create
check_match "the default line: RFC 3339 time, type, action, id, sorted attributes" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2}) container create [0-9a-f]{64} \(image=busybox, name=[a-z_]+\)' "$OUT"
# (as Docker's, events waits until --until when it is in the future: a second ahead, not
# an hour, which the 60 s nrun timeout used to cut short)
future=$(($(date +%s) + 1))
nrun events --since "$future" --until "$((future + 1))"
check_eq "--since in the future, --until after it: nothing, and it ends (0)" "0:" "$RC:$OUT"
nrun events --since 0 --until 2000-01-01
check_eq "an RFC 3339 date for --until: nothing before it" "" "$OUT"
nrun events --filter bogus=1 --until 0s
check_fail "an unknown filter is refused" test "$RC" = 0
check_match "... naming it" "invalid filter 'bogus=1'" "$ERR"
nrun events --since yesterday --until 0s
check_fail "a time that is none is refused" test "$RC" = 0
check_match "... naming it" "invalid time 'yesterday'" "$ERR"

# the follower saw all of it, and ends on SIGINT with 0
last() { grep -q '^volume destroy' "$T_SCRATCH/follow.out"; }
wait_until "the follower got the last event" 20 last && ok "events follows the log"
check_eq "the follower saw what the log holds" "$all" "$(cat "$T_SCRATCH/follow.out")"
kill -INT "$fpid"
frc=0
wait "$fpid" || frc=$?
check_eq "events ends on SIGINT with 0" 0 "$frc"

# a run --rm without a name records itself after its clone, its events' attributes taken
# from the record it writes (cmd/run.c): the same labels, image and name
nrun run --rm -l team=rm busybox true
nrun events --since 0 --until 0s --filter label=team=rm \
  --format '{{.Action}} {{.Actor.Attributes.image}} {{.Actor.Attributes.team}}'
check_eq "run --rm -l: every event carries the image and the label" \
  "create busybox rm${NL}start busybox rm${NL}die busybox rm${NL}destroy busybox rm" "$OUT"
nrun events --since 0 --until 0s --filter label=team=rm --filter event=destroy \
  --format '{{.Actor.Attributes.name}}'
check_match "... and its generated name" '^[a-z]+_[a-z]+$' "$OUT"

# bounded: past 1 MiB the log is renamed events.log.1, still read
line='{"Type":"volume","Action":"create","Actor":{"ID":"filler","Attributes":{}},"scope":"local","time":1,"timeNano":1000000000}'
for _ in $(seq 9000); do printf '%s\n' "$line"; done >>"$NOOK_ROOT/events.log"
nrun volume create evbound
check "past 1 MiB the log was rotated" test -s "$NOOK_ROOT/events.log.1"
size=$(stat -c %s "$NOOK_ROOT/events.log" 2>/dev/null || echo 0)
check "... and the new one is small" test "$size" -lt 100000
nrun events --since 0 --until 0s --filter volume=filler --format '{{.Actor.ID}}'
check_eq "the rotated log is still read" 9000 "$(printf '%s\n' "$OUT" | grep -c filler)"
nrun volume rm evbound
nrun events --since 0 --until 0s --filter volume=evbound --format '{{.Action}}'
check_eq "... and the new one after it" "create${NL}destroy" "$OUT"

done_testing
