#!/usr/bin/env bash
# t-push-digest.sh: a push records the registry's digest of the pushed tag as Docker's
# RepoDigests (inspect, images --digests); the digest is the one push printed and the
# one the registry serves for the tag. A push of an ID records nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup pd
export NOOK_ROOT=$T_SCRATCH/store
check_status "a store of its own" 0 bootstrap busybox

check_status "tag it for the registry" 0 tag busybox "$R/lab/pd:1"
nrun inspect -f '{{json .RepoDigests}}' "$R/lab/pd:1"
check_eq "before the push: no RepoDigests" "[]" "$OUT"
nrun push "$R/lab/pd:1"
check_eq "push" 0 "$RC"
pushed=$(sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) size.*/\1/p' <<<"$OUT")
check_match "push printed its digest" '^sha256:[0-9a-f]{64}$' "$pushed"
served=$(python3 - "$R" <<'PY'
import sys, urllib.request
req = urllib.request.Request(f"http://{sys.argv[1]}/v2/lab/pd/manifests/1", method="HEAD", headers={
    "Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
print(urllib.request.urlopen(req).headers["Docker-Content-Digest"])
PY
)
check_eq "the registry serves that digest for the tag" "$pushed" "$served"
nrun inspect -f '{{json .RepoDigests}}' "$R/lab/pd:1"
check_eq "after the push: RepoDigests has REPO@DIGEST" "[\"$R/lab/pd@$pushed\"]" "$OUT"
nrun images --digests --format '{{.Repository}} {{.Digest}}' "$R/lab/pd"
check_eq "images --digests shows it" "$R/lab/pd $pushed" "$OUT"

# pushed by ID to a destination that is not a tag here: recorded nowhere, no error
id=$("$NOOK" images -q busybox)
nrun push "$id" "$R/lab/other:2"
check_eq "push of an ID to a destination" "0 " "$RC $ERR"
nrun inspect -f '{{json .RepoDigests}}' busybox
check_eq "... records nothing (the image's RepoDigests as before)" "[\"$R/lab/pd@$pushed\"]" "$OUT"
done_testing
