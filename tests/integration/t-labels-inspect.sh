#!/usr/bin/env bash
# t-labels-inspect.sh: labels (-l, --label-file), ps filters and flags (-f name= status=
# label= ancestor= id= exited=, -n, -l, -q, --no-trunc, -s, --format templates), container
# ls/inspect, inspect's Docker fields and -f templates, rename and its conflicts, container
# prune --filter label=.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

printf '# a comment\n\ncourse=lab1\ntier=web\n' >"$T_SCRATCH/labels"
check_status "run with -l and --label-file" 3 run --name one -l tier=db -l flag \
  --label-file "$T_SCRATCH/labels" -e K=V -w /tmp busybox sh -c 'exit 3'
check_status "another run" 0 run --name two -l course=lab2 busybox true
nrun run --rm -l '=x' busybox true
check_eq "a label without a name: exit 125" 125 "$RC"
check_match "... says so" 'invalid label' "$ERR"

# inspect: Docker's fields from the record
nrun inspect -f '{{.Name}}|{{.State.Status}}|{{.State.ExitCode}}|{{.State.Running}}|{{.Path}}|{{json .Args}}' one
check_eq "inspect -f: name, state, exit code, path, args" '/one|exited|3|false|sh|["-c","exit 3"]' "$OUT"
nrun inspect -f '{{json .Config.Labels}}' one
check_eq "labels: the file's, then -l (later wins), -l KEY alone is empty (keys sorted, as Go)" \
  '{"course":"lab1","flag":"","tier":"db"}' "$OUT"
nrun inspect -f '{{index .Config.Labels "course"}} {{.Config.WorkingDir}} {{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}} {{.Config.Image}}' one
check_eq "inspect: index, WorkingDir, NetworkMode, RestartPolicy, Image" 'lab1 /tmp none no busybox' "$OUT"
nrun inspect -f '{{range .Config.Env}}{{if eq . "K=V"}}found{{end}}{{end}}' one
check_eq "inspect: range and if over Config.Env" found "$OUT"
nrun container inspect one
check_match "container inspect: a JSON array with Id, State, HostConfig, Config, Mounts" \
  '^\[.*"Id": "[0-9a-f]{64}".*"State": \{.*"HostConfig": \{.*"Mounts": \[.*"Config": \{' "$(tr -d '\n' <<<"$OUT")"
nrun inspect -f '{{.Id}} {{.RepoTags}}' busybox
check_match "inspect of an image name falls through to the image" '^sha256:[0-9a-f]{64} \[busybox:latest\]$' "$OUT"
nrun inspect nosuch
check_eq "inspect of nothing known: exit 1" 1 "$RC"
check_match "... Docker's message" 'Error: No such object: nosuch' "$ERR"
nrun container inspect nosuch
check_match "container inspect: No such container" 'Error: No such container: nosuch' "$ERR"
nrun inspect -f '{{.Nope' one
check_match "a broken template is a parsing error" 'template parsing error' "$ERR"

# ps filters
nrun ps -a -f label=course=lab1 --format '{{.Names}}'
check_eq "ps -f label=KEY=VALUE" one "$OUT"
nrun ps -a -f label=course --format '{{.Names}}'
check_eq "ps -f label=KEY (newest first)" "two${NL}one" "$OUT"
nrun ps -a -f label=course -f label=tier=db --format '{{.Names}}'
check_eq "two label filters: both must match" one "$OUT"
nrun ps -a -f 'label!=tier' --format '{{.Names}}'
check_eq "label!=" two "$OUT"
nrun ps -a -f name=tw --format '{{.Names}}'
check_eq "ps -f name= (substring)" two "$OUT"
nrun ps -a -f status=exited -f exited=3 -q
id_one=$("$NOOK" inspect -f '{{.Id}}' one)
check_eq "ps -f status=exited -f exited=3 -q" "${id_one:0:12}" "$OUT"
nrun ps -a -f "id=${id_one:0:8}" --no-trunc -q
check_eq "ps -f id=PREFIX --no-trunc -q: the full ID" "$id_one" "$OUT"
nrun ps -a -f ancestor=busybox:latest -q
check_eq "ps -f ancestor=IMAGE:latest" 2 "$(wc -l <<<"$OUT")"
nrun ps -a -f status=running -q
check_eq "ps -f status=running: none" "" "$OUT"
nrun ps -f bogus=1
check_eq "an unknown filter: exit 1" 1 "$RC"
check_match "... Docker's message" "invalid filter 'bogus'" "$ERR"
nrun ps -n 1 --format '{{.Names}}'
check_eq "ps -n 1: the last created, whatever its state" two "$OUT"
nrun ps -l --format '{{.Names}} {{.State}}'
check_eq "ps -l" "two exited" "$OUT"
nrun ps -a --format 'table {{.Names}}\t{{.Label "tier"}}\t{{.Status}}'
check_match "ps --format 'table ...': Docker's header" '^NAMES +STATUS' "$OUT"
check_match "... and aligned rows" "${NL}one +db +Exited \\(3\\)" "$OUT"
nrun ps -a -s
check_match "ps -s: a SIZE column" '^CONTAINER ID .* NAMES +SIZE' "$OUT"
nrun ps -a --format json
check_match "ps --format json: Docker's fields" '"Labels":"course=lab1,flag=,tier=db"' "$OUT"
nrun container ls -a -q
check_eq "container ls -a -q" 2 "$(wc -l <<<"$OUT")"
nrun container list --all --format '{{upper .Names}}'
check_eq "container list --all with a function" "TWO${NL}ONE" "$OUT"

# rename
nrun rename one two
check_eq "rename to a taken name: exit 1" 1 "$RC"
check_match "... Docker's Conflict message" \
  "Conflict. The container name \"/two\" is already in use by container \"[0-9a-f]{64}\"" "$ERR"
nrun rename one one
check_eq "rename to the same name: exit 1" 1 "$RC"
nrun rename one 'bad name'
check_match "an invalid name is refused" 'Invalid container name' "$ERR"
nrun rename nosuch x
check_match "rename of a missing container" 'No such container: nosuch' "$ERR"
check_status "rename one three" 0 rename one three
nrun inspect -f '{{.Name}} {{.Id}}' three
check_eq "the container answers to its new name" "/three $id_one" "$OUT"
check_status "the old name is free" 0 run --rm --name one busybox true

# prune with a label filter: only the matching stopped containers
nrun container prune -f --filter label=course=lab2
check_match "container prune --filter label=: removes the matching one" "Deleted Containers:${NL}[0-9a-f]{64}${NL}" "$OUT"
nrun ps -a --format '{{.Names}}'
check_eq "the other is kept" three "$OUT"
nrun container prune -f
nrun ps -aq
check_eq "container prune -f removes every stopped container" "" "$OUT"

done_testing
