#!/usr/bin/env bash
# t-compose-events.sh: compose events [--json] [SERVICE...]: the project's container events
# to come, as Compose prints them (no com.docker.compose.* attributes), not another
# project's, only the services named.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

P=$T_SCRATCH/ev
Q=$T_SCRATCH/other
mkdir -p "$P" "$Q"
cat >"$P/compose.yaml" <<'YAML'
name: cev
services:
  web:
    image: busybox
    command: sleep 1000
    init: true
  db:
    image: busybox
    command: sleep 1000
    init: true
YAML
cat >"$Q/compose.yaml" <<'YAML'
name: cevother
services:
  web:
    image: busybox
    command: sleep 1000
    init: true
YAML
cd "$P" || exit 1
nrun compose up -d
check_eq "up" 0 "$RC"
(cd "$Q" && "$NOOK" compose up -d >/dev/null 2>&1)

"$NOOK" compose events --json >"$T_SCRATCH/json.out" 2>&1 &
jpid=$!
"$NOOK" compose events web >"$T_SCRATCH/text.out" 2>&1 &
tpid=$!
# (compose events shows what is to come: pause and unpause web until both have seen one)
seen() {
  "$NOOK" compose pause web >/dev/null 2>&1
  "$NOOK" compose unpause web >/dev/null 2>&1
  grep -q '"action":"unpause"' "$T_SCRATCH/json.out" && grep -q ' container unpause ' "$T_SCRATCH/text.out"
}
wait_until "both followers see the project's events" 30 seen && ok "compose events follows"
(cd "$Q" && "$NOOK" compose restart web >/dev/null 2>&1)
nrun compose restart db
nrun compose stop -t 5 web
done_json() { grep -q '"action":"stop","attributes":{[^}]*"name":"cev-web-1"' "$T_SCRATCH/json.out"; }
done_text() { grep -q ' container stop ' "$T_SCRATCH/text.out"; }
wait_until "the stop of web seen (json)" 20 done_json && ok "json: web's stop seen"
wait_until "the stop of web seen (text)" 20 done_text && ok "text: web's stop seen"

line=$(grep '"action":"restart"' "$T_SCRATCH/json.out" | head -n1)
check_match "--json: Compose's keys" \
  '^\{"action":"restart","attributes":\{"image":"busybox","name":"cev-db-1"\},"id":"[0-9a-f]{64}","service":"db","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})","type":"container"\}$' "$line"
check_no_match "no com.docker.compose.* attributes" 'com\.docker\.compose' "$(cat "$T_SCRATCH/json.out")"
check_no_match "another project's events are not shown" 'cevother' "$(cat "$T_SCRATCH/json.out")"
check_no_match "SERVICE: only its events" 'cev-db-1' "$(cat "$T_SCRATCH/text.out")"
check_match "text: Compose's line" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{6} container stop [0-9a-f]{64} \(image=busybox, name=cev-web-1\)$' \
  "$(grep ' container stop ' "$T_SCRATCH/text.out" | head -n1)"
check_match "text: kill with its signal" 'container kill [0-9a-f]{64} \(image=busybox, name=cev-web-1, signal=15\)' \
  "$(cat "$T_SCRATCH/text.out")"

kill -INT "$jpid" "$tpid"
rc1=0 rc2=0
wait "$jpid" || rc1=$?
wait "$tpid" || rc2=$?
check_eq "compose events ends on SIGINT with 0" "0 0" "$rc1 $rc2"
nrun compose events nosuch
check_eq "an unknown service: 1" 1 "$RC"
nrun compose down -t 0
(cd "$Q" && "$NOOK" compose down -t 0 >/dev/null 2>&1)

done_testing
