#!/usr/bin/env bash
# t-build-admin.sh: what students see of built images and of the build cache (issue 17):
# `images` and `history` show the reproducible epoch 0 as "reproducible (1970-01-01)",
# not "56 years ago", and a SOURCE_DATE_EPOCH as its age; `system df` counts the build
# cache; `builder prune` (--filter until=, then all) removes the records and the
# intermediate layers only they kept (a stage no image contains), never an image's, and
# leaves a store `system check` finds clean; a build holds its base against a concurrent
# rmi (the rmi waits, says so, and the build ends well).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
echo data >"$ctx/f"
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox AS tool
RUN echo "made in a stage no image contains" >/made && head -c 300000 /dev/urandom >/big
FROM busybox
COPY f /f
COPY --from=tool /made /made
CMD ["cat", "/made"]
EOF

# --- CREATED of the reproducible epoch ------------------------------------------------------
nrun build -t epoch0 "$ctx"
check_eq "the build succeeds" 0 "$RC"
nrun images epoch0
check_match "images: CREATED says the reproducible epoch, not decades ago" \
  "epoch0 +latest +[0-9a-f]{12} +reproducible \(1970-01-01\) " "$OUT"
check_no_match "images: no 'years ago'" "years ago" "$OUT"
nrun history epoch0
check_match "history: the same for every entry" \
  "^IMAGE +CREATED +CREATED BY.*${NL}[0-9a-f]{12} +reproducible \(1970-01-01\) +CMD" "$OUT"
check_no_match "history: no 'years ago'" "years ago" "$OUT"
nrun image inspect epoch0
check_match "inspect keeps the exact time" '"Created": *"1970-01-01T00:00:00Z"' "$OUT"

three_days_ago=$(($(date +%s) - 3 * 86400 - 600))
SOURCE_DATE_EPOCH=$three_days_ago nrun build -q -t dated "$ctx"
check_eq "a build with SOURCE_DATE_EPOCH succeeds" 0 "$RC"
nrun images dated
check_match "images: a SOURCE_DATE_EPOCH shows as its age" "dated +latest +[0-9a-f]{12} +3 days ago " "$OUT"

# --- system df and builder prune ------------------------------------------------------------
nrun system df
check_match "system df: a Build Cache line with records and bytes" \
  "(^|$NL)Build Cache +[1-9][0-9]* +0 +[0-9.]+[kM]B " "$OUT"
nrun system df --format '{{.Type}}={{.TotalCount}}'
check_match "system df --format: a Go template per row" "^Images=[1-9][0-9]*${NL}Containers=[0-9]+${NL}.*${NL}Build Cache=[1-9][0-9]*$" "$OUT"
nrun system check
check_match "before the prune, the stage's layer is kept by the cache only (check calls it unused)" \
  "unused: +blob sha256:[0-9a-f]{64}: no image uses it" "$OUT"

nrun builder prune -f --filter until=24h
check_eq "builder prune --filter until=24h: every record was used now, none removed" \
  "Deleted build cache objects: 0" "$(head -n1 <<<"$OUT")"
nrun builder prune -f --filter label=x
check_eq "builder prune --filter label=x: refused" 125 "$RC"
check_match "naming the filter" "invalid filter 'label=x'" "$ERR"

nblobs_before=$(find "$NOOK_ROOT/blobs/sha256" -type f | wc -l)
nrun builder prune -af
check_eq "builder prune -af succeeds" 0 "$RC"
check_match "it says how many records and bytes" \
  "^Deleted build cache objects: [1-9][0-9]*${NL}Total reclaimed space: [0-9.]+[kM]B$" "$OUT"
nblobs_after=$(find "$NOOK_ROOT/blobs/sha256" -type f | wc -l)
check "it removed the stage's layer blob ($nblobs_before -> $nblobs_after blobs)" \
  test "$nblobs_after" -lt "$nblobs_before"
nrun system check
check_match "after it, the store is clean: no unused blob or unpacked layer" \
  "checked: 0 problems, 0 unused items" "$OUT"
nrun system df
check_match "system df: the Build Cache is empty" "(^|$NL)Build Cache +0 +0 +0B " "$OUT"
nrun run --rm epoch0
check_eq "the images are untouched: epoch0 runs" "made in a stage no image contains" "$OUT"
nrun build "$ctx"
check_eq "a rebuild after the prune succeeds" 0 "$RC"
check_no_match "and runs every step again (nothing CACHED)" "CACHED" "$ERR"

# --- a build holds its base against rmi -----------------------------------------------------
P=$(free_port tcp)
hold=$T_SCRATCH/hold
mkdir -p "$hold"
cat >"$hold/Dockerfile" <<EOF
FROM busybox
RUN nc -l -p $P >/dev/null
RUN echo after >/after
EOF
port_hex=$(printf '%04X' "$P")
listening() {
  grep -qE "^ *[0-9]+: [0-9A-F]+:$port_hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6
}
timeout -k 5 120 "$NOOK" build --network host -t held "$hold" >"$T_SCRATCH/hb.out" 2>"$T_SCRATCH/hb.err" &
bpid=$!
if wait_until "the build is parked in its RUN step (nc listens on $P)" 60 listening; then
  "$NOOK" rmi -f busybox >"$T_SCRATCH/rmi.out" 2>"$T_SCRATCH/rmi.err" &
  rpid=$!
  said() { grep -q "waiting for the builds running" "$T_SCRATCH/rmi.err"; }
  if wait_until "rmi says it waits for the build" 30 said; then ok "rmi says it waits for the build"; fi
  check "rmi has not ended while the build holds the base" kill -0 "$rpid"
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' "$P"
fi
brc=0
wait "$bpid" || brc=$?
check_eq "the build ends well, its base held" 0 "$brc"
[ "$brc" = 0 ] || diag "$(tail -n 20 "$T_SCRATCH/hb.err")"
rrc=0
[ -n "${rpid:-}" ] && { wait "$rpid" || rrc=$?; }
check_eq "then rmi ends (it untags busybox)" 0 "$rrc"
nrun run --rm held cat /after
check_eq "the built image runs" "after" "$OUT"
done_testing
