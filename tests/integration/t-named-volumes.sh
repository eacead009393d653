#!/usr/bin/env bash
# t-named-volumes.sh: named volumes (volume create/ls/inspect/rm/prune), -v NAME:/path
# (created when missing, filled from the image when empty), anonymous volumes and rm -v,
# --mount type=volume|bind|tmpfs, --volumes-from, the in-use refusal, and removal of a
# volume whose files belong to subordinate ids.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun volume create --label k=v --label team=a data
check_eq "volume create prints the name" data "$OUT"
check_status "volume create of an existing name is fine (Docker)" 0 volume create data
nrun volume create 'bad/name'
check_eq "an invalid volume name: exit 1" 1 "$RC"
check_match "... Docker's message" 'includes invalid characters for a local volume name' "$ERR"
nrun volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{index .Labels "k"}} {{.Mountpoint}}' data
check_eq "volume inspect -f" "data local local v $NOOK_ROOT/volumes/data/_data" "$OUT"
nrun volume inspect data
check_match "volume inspect: Docker's JSON" '^\[.*"CreatedAt": .*"Driver": "local".*"Labels": \{.*"Mountpoint": .*"Name": "data".*"Options": null.*"Scope": "local"' "$(tr -d '\n' <<<"$OUT")"
nrun volume inspect nosuch
check_eq "volume inspect of a missing volume: exit 1" 1 "$RC"
check_match "... Docker's message" 'Error: No such volume: nosuch' "$ERR"

# used by a run: written, kept, seen by the next run
check_status "a run writes into the named volume" 0 run --rm -v data:/d busybox sh -c 'echo hello > /d/f'
nrun run --rm -v data:/d:ro busybox sh -c 'cat /d/f; touch /d/g 2>/dev/null && echo writable'
check_eq "the next run reads it; :ro is read-only" hello "$OUT"
nrun run --rm --mount type=volume,src=data,dst=/m,readonly busybox cat /m/f
check_eq "--mount type=volume,src=,dst=,readonly" hello "$OUT"
nrun run --rm --mount "type=bind,source=$T_SCRATCH,target=/w" --mount type=tmpfs,dst=/t,tmpfs-size=1m busybox sh -c 'touch /w/from-bind && grep " /t " /proc/mounts'
check_match "--mount type=bind and type=tmpfs" '^tmpfs /t tmpfs' "$OUT"
check "... the bind wrote to the host" test -e "$T_SCRATCH/from-bind"
nrun run --rm --mount type=nfs,dst=/x busybox true
check_eq "--mount with an unknown type: exit 125" 125 "$RC"

# a missing volume is created, and filled from the image's content at its path
nrun run --rm -v fresh:/etc busybox cat /etc/group
check_match "-v NEW:/etc: created and filled from the image's /etc" '^root:x:0:' "$OUT"
nrun volume ls -q
check_eq "volume ls -q lists both" "data${NL}fresh" "$OUT"
nrun run --rm -v fresh:/etc busybox sh -c 'echo changed > /etc/group; cat /etc/group'
nrun run --rm -v fresh:/etc busybox cat /etc/group
check_eq "a filled volume is not filled again" changed "$OUT"
nrun run --rm -v emptyone:/etc:nocopy busybox ls /etc
check_eq "nocopy: not filled" "" "$OUT"

# in use: refused while a container (even stopped) uses it
check_status "a kept container using data" 0 run --name user1 -v data:/d busybox true
cid=$("$NOOK" inspect -f '{{.Id}}' user1)
nrun inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}' user1
check_eq "inspect .Mounts of a volume" "volume data /d true" "$OUT"
nrun volume rm data
check_eq "volume rm of a volume in use: exit 1" 1 "$RC"
check_match "... Docker's message with the container's ID" "volume is in use - \\[$cid\\]" "$ERR"
nrun volume ls -f dangling=false -q
check_eq "volume ls -f dangling=false" data "$OUT"
nrun volume ls -f dangling=true -f name=fr --format '{{.Name}}:{{.Driver}}'
check_eq "volume ls -f dangling=true -f name= --format" "fresh:local" "$OUT"
nrun volume ls -f label=team=a --format 'table {{.Name}}\t{{.Labels}}'
check_match "volume ls -f label= --format table" "^VOLUME NAME +LABELS${NL}data +k=v,team=a\$" "$OUT"
nrun run --rm --volumes-from user1 busybox cat /d/f
check_eq "--volumes-from: the other container's volumes" hello "$OUT"
nrun run --rm --volumes-from user1:ro busybox sh -c 'touch /d/x 2>/dev/null || echo read-only'
check_eq "--volumes-from CTR:ro" read-only "$OUT"
check_status "rm the container" 0 rm user1
check_status "then volume rm works" 0 volume rm data
nrun volume rm data
check_match "volume rm of a missing volume" 'No such volume: data' "$ERR"
check_status "volume rm -f of a missing volume is fine" 0 volume rm -f data

# anonymous volumes: -v /path; rm -v removes them, named ones stay
check_status "a container with an anonymous and a named volume" 0 run --name anon -v /scratch -v keepme:/k busybox sh -c 'echo x > /scratch/f'
anon=$("$NOOK" inspect -f '{{range .Mounts}}{{if eq .Destination "/scratch"}}{{.Name}}{{end}}{{end}}' anon)
check_match "the anonymous volume has a 64-hex name" '^[0-9a-f]{64}$' "$anon"
nrun volume inspect -f '{{json .Labels}}' "$anon"
check_eq "... and Docker's anonymous label" '{"com.docker.volume.anonymous":""}' "$OUT"
check_status "rm -v" 0 rm -v anon
nrun volume ls -q
check_no_match "rm -v removed the anonymous volume" "$anon" "$OUT"
check_match "... not the named one" 'keepme' "$OUT"

# a volume holding files of other ids (subordinate ones with a range) is removable
nrun run --rm -v owned:/v busybox sh -c 'mkdir -p /v/x/y && echo 1 > /v/x/y/z && chown -R 1000:1000 /v/x 2>/dev/null; chmod 700 /v/x /v/x/y'
check_eq "files of another id in a volume" 0 "$RC"
check_status "volume rm of it" 0 volume rm owned
check "nothing of it is left" test ! -e "$NOOK_ROOT/volumes/owned"

# --rm takes its anonymous volumes with it (Docker); prune: anonymous unused ones, -a all
before=$("$NOOK" volume ls -q | wc -l)
check_status "a --rm run with an anonymous volume" 0 run --rm -v /tmpv busybox true
check_eq "... leaves no volume behind" "$before" "$("$NOOK" volume ls -q | wc -l)"
check_status "an anonymous volume left by a container removed without -v" 0 run --name left -v /tmpv busybox true
check_status "rm without -v" 0 rm left
nrun volume prune -f
check_match "volume prune -f removes unused anonymous volumes" "Deleted Volumes:${NL}[0-9a-f]{64}" "$OUT"
nrun volume ls -q
check_match "named ones stay" 'keepme' "$OUT"
nrun volume prune -f -a --filter label=nosuch
check_match "prune -a with a label filter that matches nothing" 'Total reclaimed space' "$OUT"
check_match "... keeps them" 'keepme' "$("$NOOK" volume ls -q)"
check_status "volume prune -af" 0 volume prune -af
nrun volume ls -q
check_eq "nothing is left" "" "$OUT"

done_testing
