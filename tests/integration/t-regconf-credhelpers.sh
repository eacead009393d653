#!/usr/bin/env bash
# t-regconf-credhelpers.sh: registries.conf's credential-helpers (containers-registries.conf(5)):
# the helpers are asked in the order listed, the first with credentials wins;
# "containers-auth.json" stands for the auth files (REGISTRY_AUTH_FILE, Docker's config.json),
# which are not read when the list does not name it; another NAME is docker-credential-NAME,
# given the registry (a fake helper the test writes); a helper that cannot run does not stop
# the search.  Pull and push, against a loopback docker-registry with basic auth.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup_basic rc
B=$R
mkdir -p "$DOCKER_CONFIG" "$XDG_CONFIG_HOME/containers"
printf 's3cret\n' >"$T_SCRATCH/pw"
NRUN_STDIN=$T_SCRATCH/pw nrun login -u student --password-stdin "$B"
check_status "push with nook's login" 0 push busybox "$B/lab/rc:1"

# from here the auth file holds a wrong password for the registry
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$B" "$(printf student:wrong | base64)" \
  >"$REGISTRY_AUTH_FILE"

fake_cred_helper "$B"
conf() { printf 'credential-helpers = [%s]\n' "$1" >"$XDG_CONFIG_HOME/containers/registries.conf"; }

in_store a nrun pull "$B/lab/rc:1"
check_eq "no credential-helpers: the auth file's (wrong) credentials, refused" 1 "$RC"
check_no_match "... no helper asked" . "$(cat "$T_SCRATCH/helper.log" 2>/dev/null)"

conf '"nooktest"'
in_store b nrun pull "$B/lab/rc:1"
check_eq "credential-helpers = [nooktest]: pulled with the helper's credentials" 0 "$RC"
check_eq "... the helper was given the registry" "$B" "$(tail -n 1 "$T_SCRATCH/helper.log")"

conf '"containers-auth.json", "nooktest"'
in_store c nrun pull "$B/lab/rc:1"
check_eq "auth file first: its credentials win (refused here)" 1 "$RC"
check_match "... the registry's answer" "unauthorized|401" "$ERR"

conf '"nooktest", "containers-auth.json"'
in_store d nrun pull "$B/lab/rc:1"
check_eq "helper first: its credentials win" 0 "$RC"
nrun info
check_match "info lists the credential helpers in order" \
  "credential helpers, in order: nooktest, containers-auth.json" "$OUT"

conf "\"absent-$$\", \"nooktest\""
in_store e nrun pull "$B/lab/rc:1"
check_eq "a helper that cannot run does not stop the search" 0 "$RC"

# the helper knows nothing of this server: with only the helper listed, the files are not
# read (their right credentials unused); with containers-auth.json after it, they are
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$B" "$(printf student:s3cret | base64)" \
  >"$REGISTRY_AUTH_FILE"
fake_cred_helper nothing
conf '"nooktest"'
in_store f nrun pull "$B/lab/rc:1"
check_eq "helper alone, not found: the auth files are not read" 1 "$RC"
conf '"nooktest", "containers-auth.json"'
in_store g nrun pull "$B/lab/rc:1"
check_eq "helper not found -> containers-auth.json next" 0 "$RC"

conf "\"absent-$$\""
in_store h nrun pull "$B/lab/rc:1"
check_eq "only a missing helper: exit 1" 1 "$RC"
check_match "... the warning names it" "docker-credential-absent-$$" "$ERR"

# push asks the helpers too
fake_cred_helper "$B"
export REGISTRY_AUTH_FILE=$T_SCRATCH/none.json
conf '"nooktest"'
check_status "push with the helper's credentials" 0 push busybox "$B/lab/rc:2"

printf 'credential-helpers = "nooktest"\n' >"$XDG_CONFIG_HOME/containers/registries.conf"
in_store i nrun pull "$B/lab/rc:1"
check_match "credential-helpers not a list: the file is said to be wrong" "credential-helpers must be an array" "$ERR"
done_testing
