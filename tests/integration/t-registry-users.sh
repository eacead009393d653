#!/usr/bin/env bash
# t-registry-users.sh: an image pushed by one test user is pulled into an empty store by the
# other and runs there, with the same image ID (the registry's storage is left in
# $NOOK_TEST_SHARED by the first user, who runs first; the next one serves the same storage
# with a docker-registry of its own); and `run --pull always|missing|never` against it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for t in docker-registry python3; do
  command -v "$t" >/dev/null 2>&1 || skip_all "$t is not installed (ci/deps.sh installs it)"
done
setup_image
# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
export REGISTRY_AUTH_FILE=$T_SCRATCH/auth.json XDG_CONFIG_HOME=$T_SCRATCH/xdg
me=$(id -un)

# the storage pushed by an earlier user of this run, if any
shared=${NOOK_TEST_SHARED:-}
theirs=
if [ -n "$shared" ] && [ -d "$shared" ]; then
  for rec in "$shared"/registry-users.*.id; do
    [ -f "$rec" ] && [ "$rec" != "$shared/registry-users.$me.id" ] && theirs=$rec && break
  done
fi
if [ -n "$theirs" ]; then
  who=${theirs#"$shared"/registry-users.}
  who=${who%.id}
  mkdir -p "$T_SCRATCH/theirs"
  # docker-registry on a copy of their storage (theirs is theirs: nothing written there)
  cp -r "$shared/registry-users.$who.data" "$T_SCRATCH/theirs/data"
  start_registry theirs || done_testing
  R=127.0.0.1:$REG_PORT
  read -r their_id <"$theirs"
  in_store empty nrun pull "$R/lab/users:1"
  check_eq "pull of the image $who pushed, into an empty store" 0 "$RC"
  in_store empty nrun images -q --no-trunc "$R/lab/users:1"
  check_eq "... the same image ID as $who's" "$their_id" "$OUT"
  in_store empty nrun run --rm --pull never "$R/lab/users:1" cat /etc/pushed-by
  check_eq "... and it runs here, with $who's file" "$who" "$OUT"
else
  diag "no earlier user's registry in this run: pushing one for the next"
fi

# push an image of ours (busybox plus a file naming us) for the next user
start_registry mine || done_testing
R=127.0.0.1:$REG_PORT
mkdir -p "$T_SCRATCH/ctx"
printf 'FROM busybox\nRUN echo %s >/etc/pushed-by\n' "$me" >"$T_SCRATCH/ctx/Dockerfile"
check_status "build an image to push" 0 build -q -t "$R/lab/users:1" "$T_SCRATCH/ctx"
check_status "push it" 0 push "$R/lab/users:1"
if [ -n "$shared" ] && [ -d "$shared" ]; then
  rm -rf "$shared/registry-users.$me.data"
  cp -r "$T_SCRATCH/mine/data" "$shared/registry-users.$me.data"
  chmod -R a+rX "$shared/registry-users.$me.data"
  "$NOOK" images -q --no-trunc "$R/lab/users:1" >"$shared/registry-users.$me.id"
  chmod a+r "$shared/registry-users.$me.id"
fi

# ---- run --pull ----
in_store p nrun run --rm --pull never "$R/lab/users:1" true
check_eq "run --pull never of an image not in the store: 125" 125 "$RC"
in_store p nrun run --rm --pull missing "$R/lab/users:1" cat /etc/pushed-by
check_eq "run --pull missing pulls it and runs" "0 $me" "$RC $OUT"
check_match "... saying it was not found locally" "Unable to find image" "$ERR"
in_store p nrun run --rm --pull missing "$R/lab/users:1" true
check_no_match "run --pull missing of an image in the store: no pull" "Pulling|Unable to find" "$ERR$OUT"
# a new image under the same tag: only --pull always sees it
printf 'FROM busybox\nRUN echo second >/etc/pushed-by\n' >"$T_SCRATCH/ctx/Dockerfile"
check_status "a second image under the same tag, pushed" 0 build -q -t "$R/lab/users:1" "$T_SCRATCH/ctx"
check_status "... pushed" 0 push "$R/lab/users:1"
in_store p nrun run --rm "$R/lab/users:1" cat /etc/pushed-by
check_eq "run (missing) keeps the image it has" "$me" "$OUT"
in_store p nrun run --rm --pull always "$R/lab/users:1" cat /etc/pushed-by
check_eq "run --pull always pulls the new one and runs it" "0 second" "$RC $OUT"
in_store p nrun images -q --no-trunc "$R/lab/users:1"
check_eq "... now the tag's image" "$("$NOOK" images -q --no-trunc "$R/lab/users:1")" "$OUT"
done_testing
