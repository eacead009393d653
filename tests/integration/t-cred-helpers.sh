#!/usr/bin/env bash
# t-cred-helpers.sh: Docker's credential helpers named in config.json (credHelpers for one
# registry, else credsStore): `docker-credential-NAME get` is run with the server on its
# stdin and its answer used (a fake helper the test writes); a helper that is missing is
# an error naming it; "credentials not found" falls back to the file's auths. Against a
# loopback docker-registry with basic auth.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup_basic ch
B=$R
mkdir -p "$DOCKER_CONFIG"

# push with nook's own login (its auth.json), then pull with only Docker's config
printf 's3cret\n' >"$T_SCRATCH/pw"
NRUN_STDIN=$T_SCRATCH/pw nrun login -u student --password-stdin "$B"
check_status "push with nook's login" 0 push busybox "$B/lab/ch:1"
export REGISTRY_AUTH_FILE=$T_SCRATCH/none.json

fake_cred_helper "$B"

in_store a nrun pull "$B/lab/ch:1"
check_eq "without credentials the pull fails" 1 "$RC"

printf '{"credHelpers": {"%s": "nooktest"}}\n' "$B" >"$DOCKER_CONFIG/config.json"
in_store b nrun pull "$B/lab/ch:1"
check_eq "credHelpers: pulled with the helper's credentials" 0 "$RC"
check_eq "... the helper was given the registry" "$B" "$(tail -n 1 "$T_SCRATCH/helper.log")"

printf '{"credsStore": "nooktest"}\n' >"$DOCKER_CONFIG/config.json"
in_store c nrun pull "$B/lab/ch:1"
check_eq "credsStore: pulled with the helper's credentials" 0 "$RC"

printf '{"credsStore": "absent-%s"}\n' "$$" >"$DOCKER_CONFIG/config.json"
in_store d nrun pull "$B/lab/ch:1"
check_eq "a helper that is missing: exit 1" 1 "$RC"
check_match "... naming it" "docker-credential-absent-$$" "$ERR"

# the helper knows nothing of this server: the file's auths are used
printf '{"credsStore": "nooktest", "auths": {"%s": {"auth": "%s"}}}\n' \
  "$B" "$(printf student:s3cret | base64)" >"$DOCKER_CONFIG/config.json"
fake_cred_helper nothing
in_store e nrun pull "$B/lab/ch:1"
check_eq "helper: not found -> the file's auths" 0 "$RC"
done_testing
