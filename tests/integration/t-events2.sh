#!/usr/bin/env bash
# t-events2.sh: nook events beyond the containers' lives, as Docker records them: network
# connect/disconnect (the verbs, and a container's join at start and leave at its end),
# image tag/untag/delete/load/save/import/pull/push (and build's tag), volume create at
# first use, mount/unmount and prune's destroys, container exec_create/exec_start/exec_die,
# rename, attach, cp's extract-to-dir/archive-path; each with Docker's attributes.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

evs() { "$NOOK" events --since 0 --until 0s "$@"; }
F='{{.Type}} {{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}'

# ---- network: a container's join at start, leave at its end; the verbs
nrun network create evn2
check_eq "network create" 0 "$RC"
nid=$OUT
nrun run -d --name evnc --network evn2 busybox sleep 1000
cid=$OUT
nrun network disconnect evn2 evnc
check_eq "network disconnect" 0 "$RC"
nrun network connect evn2 evnc
check_eq "network connect" 0 "$RC"
nrun stop -t 1 evnc
nrun run --rm --network evn2 busybox true
check_eq "run --rm on the network" 0 "$RC"
four() { [ "$(evs --filter type=network --filter network=evn2 --format "$F" |
  grep -c "\"container\":\"$cid\"")" -ge 4 ]; }
# (the holder records a leave once it answered: polled)
wait_until "the four connect/disconnect events of evnc" 20 four
nrun events --since 0 --until 0s --filter type=network --filter network=evn2 --format "$F"
check_eq "events --filter type=network" 0 "$RC"
mine=$(printf '%s\n' "$OUT" | grep "\"container\":\"$cid\"" | awk '{print $2}' | tr '\n' ' ')
check_eq "run on a network, disconnect, connect, stop: Docker's sequence" \
  "connect disconnect connect disconnect " "$mine"
check_match "connect's attributes: container, name, type; the network's ID" \
  "network connect $nid \{\"container\":\"$cid\",\"name\":\"evn2\",\"type\":\"bridge\"\}" "$OUT"
rmrun() { [ "$(evs --filter type=network --filter network=evn2 --format '{{.Action}}' |
  grep -c connect)" -ge 6 ]; }
wait_until "run --rm's connect and disconnect" 20 rmrun
nrun events --since 0 --until 0s --filter network=evn2 --filter event=disconnect --format '{{.Action}}'
check_eq "--filter event=disconnect" "disconnect${NL}disconnect${NL}disconnect" "$OUT"
nrun rm -f evnc
nrun network rm evn2

# ---- container: exec_create / exec_start / exec_die (execID, exitCode), rename (oldName)
nrun run -d --name evx -l team=x busybox sleep 1000
xid=$OUT
nrun exec evx sh -c 'exit 3'
check_eq "exec's status" 3 "$RC"
nrun events --since 0 --until 0s --filter container=evx --filter event=exec_create \
  --filter event=exec_start --filter event=exec_die \
  --format '{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.team}}'
check_eq "--filter event=exec_create matches 'exec_create: CMD'" 0 "$RC"
acts=$(printf '%s\n' "$OUT" | cut -d'|' -f1)
check_eq "exec_create, exec_start with the command; exec_die" \
  "exec_create: sh -c exit 3${NL}exec_start: sh -c exit 3${NL}exec_die" "$acts"
ids=$(printf '%s\n' "$OUT" | cut -d'|' -f2 | sort -u)
check_match "one execID, 64 hex digits, on all three" '^[0-9a-f]{64}$' "$ids"
check_eq "exec_die's exitCode; the container's labels" "3|x" "$(printf '%s\n' "$OUT" | tail -n1 | cut -d'|' -f3-)"
# exec -d -t: detached as without -t (it returned only once its command had ended, and
# told no exec_die); the command has its pty while it runs, and its end is told
nrun exec evx mkfifo /tmp/gate
NOOK_RUN_TIMEOUT=30 nrun exec -d -t evx sh -c 'tty >/tmp/dt; cat /tmp/gate >/dev/null; exit 5'
check_eq "exec -d -t returns while its command runs (its gate still shut)" 0 "$RC"
has_tty() { "$NOOK" exec evx cat /tmp/dt 2>/dev/null | grep -q '^/dev/pts/'; }
wait_until "the detached command has a pty" 30 has_tty
nrun exec evx sh -c 'echo go >/tmp/gate'
dt_died() {
  "$NOOK" events --since 0 --until 0s --filter container=evx --filter event=exec_die \
    --format '{{.Actor.Attributes.exitCode}}' | grep -qx 5
}
wait_until "exec -d -t's exec_die with its command's exitCode (5)" 30 dt_died
nrun rename evx evx2
check_eq "rename" 0 "$RC"
nrun events --since 0 --until 0s --filter event=rename --format '{{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}'
check_eq "rename: the new name, oldName as Docker's (with '/')" "$xid evx2 /evx" "$OUT"
nrun rm -f evx2

# ---- attach, cp (extract-to-dir into the container, archive-path out of it)
nrun run -d --name evat busybox sh -c 'until [ -e /tmp/go ]; do sleep 0.1; done; echo went'
atid=$OUT
timeout 60 "$NOOK" attach evat >"$T_SCRATCH/attach.out" 2>&1 </dev/null &
apid=$!
attached() { [ -n "$(evs --filter container=evat --filter event=attach --format x)" ]; }
wait_until "the attach event" 30 attached
# (the container ends once told: attach with it)
nrun exec evat touch /tmp/go
arc=0
wait "$apid" || arc=$?
check_eq "attach ends with the container, 0" 0 "$arc"
check_eq "... having shown its output" "went" "$(cat "$T_SCRATCH/attach.out")"
echo hi >"$T_SCRATCH/in.txt"
nrun cp "$T_SCRATCH/in.txt" evat:/tmp/in.txt
check_eq "cp into" 0 "$RC"
nrun cp evat:/tmp/in.txt "$T_SCRATCH/out.txt"
check_eq "cp out of" 0 "$RC"
nrun events --since 0 --until 0s --filter container=evat --filter event=attach \
  --filter event=extract-to-dir --filter event=archive-path --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
check_eq "attach, extract-to-dir, archive-path: Docker's actions" \
  "attach $atid evat${NL}extract-to-dir $atid evat${NL}archive-path $atid evat" "$OUT"
nrun rm -f evat

# ---- volume: create at a run's first use, mount at start, unmount at the end; prune's destroys
nrun run --rm -v evv2:/data busybox true
check_eq "run --rm with a named volume" 0 "$RC"
vcid=$(evs --filter event=mount --filter volume=evv2 --format '{{.Actor.Attributes.container}}')
nrun events --since 0 --until 0s --filter type=volume --filter volume=evv2 --format "$F"
check_eq "--filter type=volume" \
  "volume create evv2 {\"driver\":\"local\"}${NL}volume mount evv2 {\"container\":\"$vcid\",\"destination\":\"/data\",\"driver\":\"local\",\"propagation\":\"\",\"read/write\":\"true\"}${NL}volume unmount evv2 {\"container\":\"$vcid\",\"driver\":\"local\"}" "$OUT"
check_match "... the container's ID in mount's attributes" '^[0-9a-f]{64}$' "$vcid"
nrun run -d --name evvd -v evv3:/w:ro busybox sleep 1000
dcid=$OUT
nrun stop -t 1 evvd
nrun events --since 0 --until 0s --filter volume=evv3 --format '{{.Action}} {{.Actor.Attributes.container}} {{index .Actor.Attributes "read/write"}}'
check_eq "a supervised container: mount at start (read/write false for :ro), unmount at its end" \
  "create${NL}mount $dcid false${NL}unmount $dcid" "$(printf '%s\n' "$OUT" | sed 's/ <no value>//g')"
nrun rm evvd
nrun volume create evv4
nrun volume prune -af
check_eq "volume prune" 0 "$RC"
nrun events --since 0 --until 0s --filter type=volume --filter event=destroy --format '{{.Actor.ID}}'
gone=$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')
check_eq "volume prune's destroys" "evv2 evv3 evv4 " "$gone"

# ---- image: tag, save, untag, load, import, delete; Docker's Actor (the image's ID) and name
bid=$("$NOOK" image inspect busybox | grep -o '"Id": *"sha256:[0-9a-f]*"' | grep -o 'sha256:[0-9a-f]*')
check_match "busybox's image ID" '^sha256:[0-9a-f]{64}$' "$bid"
nrun tag busybox evimg:one
check_eq "tag" 0 "$RC"
nrun save -o "$T_SCRATCH/evimg.tar" evimg:one
check_eq "save" 0 "$RC"
nrun rmi evimg:one
check_eq "rmi of one tag of two" 0 "$RC"
nrun load -i "$T_SCRATCH/evimg.tar"
check_eq "load" 0 "$RC"
mkdir -p "$T_SCRATCH/imp" && echo hi >"$T_SCRATCH/imp/f" && tar -C "$T_SCRATCH/imp" -cf "$T_SCRATCH/imp.tar" .
nrun import "$T_SCRATCH/imp.tar" evimp:1
check_eq "import" 0 "$RC"
iid=$OUT
check_match "import prints the image's ID" '^sha256:[0-9a-f]{64}$' "$iid"
nrun rmi evimp:1
check_eq "rmi of the imported image" 0 "$RC"
nrun events --since 0 --until 0s --filter type=image --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
check_eq "events --filter type=image: tag, save, untag, load, import, untag, delete" \
  "tag $bid evimg:one${NL}save $bid $bid${NL}untag $bid $bid${NL}load $bid $bid${NL}import $iid $iid${NL}untag $iid $iid${NL}delete $iid $iid" "$OUT"
nrun events --since 0 --until 0s --filter image=evimg:one --format '{{.Action}}'
check_eq "--filter image=NAME: the tag event by its name" "tag" "$OUT"
nrun events --since 0 --until 0s --filter type=image --filter event=delete --format json
check_match "--format json: Docker's image message (status, id, no from)" \
  "^\\{\"Type\":\"image\",\"Action\":\"delete\",\"Actor\":\\{\"ID\":\"$iid\",\"Attributes\":\\{\"name\":\"$iid\"\\}\\},\"scope\":\"local\",\"time\":[0-9]+,\"timeNano\":[0-9]+,\"status\":\"delete\",\"id\":\"$iid\"\\}$" "$OUT"
nrun rmi evimg:one

# ---- build's tag events, one per -t
mkdir -p "$T_SCRATCH/ctx" && printf 'FROM busybox\nLABEL ev=2\n' >"$T_SCRATCH/ctx/Dockerfile"
nrun build -q -t evbuild:1 -t evbuild:2 "$T_SCRATCH/ctx"
check_eq "build" 0 "$RC"
bld=$OUT
nrun events --since 0 --until 0s --filter type=image --filter event=tag --filter image=evbuild:1 \
  --filter image=evbuild:2 --format '{{.Actor.ID}} {{.Actor.Attributes.name}}'
check_eq "build -t -t: a tag event each, the image's ID" "$bld evbuild:1${NL}$bld evbuild:2" "$OUT"
nrun rmi evbuild:1 evbuild:2

# ---- image push and pull (Debian's docker-registry on 127.0.0.1): the reference, its name
# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
if start_registry evreg; then
  R=127.0.0.1:$REG_PORT
  nrun push busybox "$R/lab/evb:2"
  check_eq "push" 0 "$RC"
  in_store p nrun pull "$R/lab/evb:2"
  check_eq "pull into another store" 0 "$RC"
  nrun events --since 0 --until 0s --filter type=image --filter event=push --format '{{.Actor.ID}} {{.Actor.Attributes.name}}'
  check_eq "push: the reference pushed, its repository as name" "$R/lab/evb:2 $R/lab/evb" "$OUT"
  in_store p nrun events --since 0 --until 0s --filter type=image --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
  check_eq "pull: the reference pulled, its repository as name" "pull $R/lab/evb:2 $R/lab/evb" "$OUT"
fi

done_testing
