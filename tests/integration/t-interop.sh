#!/usr/bin/env bash
# t-interop.sh: nook's archives read by skopeo and podman, and podman's read by nook, with
# the image ID (the config digest) and the layers' diff IDs unchanged on every way.
#
# podman runs as the test user with its own store in the scratch directory (vfs, chown
# errors ignored so that the user without a subordinate range can run it too), a short
# runroot of its own, and its rootless pause process ended at the end.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
for t in podman skopeo; do
  command -v "$t" >/dev/null || skip_all "$t is not installed (ci/deps.sh installs it)"
done
setup_image
S=$T_SCRATCH
pr=$(mktemp -d /tmp/nki.XXXXXX) # podman wants a runroot shorter than 50 characters
mkdir -m 0700 "$pr/xdg"
P=(timeout 60 env XDG_RUNTIME_DIR="$pr/xdg" podman --root "$S/podman" --runroot "$pr/run"
  --storage-driver vfs --storage-opt vfs.ignore_chown_errors=true --runtime runc
  --cgroup-manager cgroupfs --events-backend file)
podman_end() {
  local pidf=$pr/xdg/libpod/tmp/pause.pid
  if [ -s "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null || true; fi
  rm -rf "$pr" 2>/dev/null || true
}

id=$("$NOOK" images -q --no-trunc busybox)
diff=$("$NOOK" inspect busybox | tr -d ' \n' | grep -o '"Layers":\["sha256:[0-9a-f]*"' | grep -o 'sha256:[0-9a-f]*')
layers_of() { "$NOOK" inspect "$1" | tr -d ' \n' | grep -o '"Layers":\[[^]]*\]' | grep -o 'sha256:[0-9a-f]*' | tr '\n' ' '; }
"$NOOK" save -o "$S/d.tar" busybox
"$NOOK" save --format oci-archive -o "$S/o.tar" busybox

# ---- skopeo ----
for f in docker-archive:d.tar oci-archive:o.tar; do
  out=$(timeout 60 skopeo inspect --config "${f%%:*}:$S/${f#*:}" 2>&1)
  check_match "skopeo reads nook's ${f%%:*} (diff ID unchanged)" "\"diff_ids\": \[[[:space:]]*\"$diff\"" "$out"
done
out=$(timeout 60 skopeo inspect "docker-archive:$S/d.tar:docker.io/library/busybox:latest" 2>&1)
check_match "skopeo finds the image by the tag nook wrote" '"Layers": \[[[:space:]]*"'"$diff"'"' "$out"
check "skopeo copies nook's docker-archive to an oci-archive" \
  timeout 60 skopeo copy -q "docker-archive:$S/d.tar" "oci-archive:$S/sk.tar:busybox:sk"
check_status "nook loads skopeo's oci-archive" 0 load -i "$S/sk.tar"
check_eq "under the name skopeo gave it" "Loaded image: busybox:sk" "$OUT"
check_eq "with the same diff IDs" "$diff " "$(layers_of busybox:sk)"
size_of() { "$NOOK" inspect "$1" | tr -d ' \n' | grep -o '"Size":[0-9]*'; }
check_eq "and the uncompressed size of its gzip layer as Size (as Docker)" \
  "$(size_of busybox)" "$(size_of busybox:sk)"
check "skopeo copies nook's oci-archive to a docker-archive" \
  timeout 60 skopeo copy -q "oci-archive:$S/o.tar" "docker-archive:$S/skd.tar:busybox:skd"
check_status "nook loads skopeo's docker-archive" 0 load -i "$S/skd.tar"
check_eq "same image ID" "$id" "$("$NOOK" images -q --no-trunc busybox:skd)"

# ---- podman ----
for f in d.tar o.tar; do
  out=$("${P[@]}" load -i "$S/$f" 2>&1)
  check_match "podman loads nook's $f" "Loaded image: docker.io/library/busybox:latest" "$out"
  out=$("${P[@]}" image inspect --format '{{.Id}} {{.RootFS.Layers}}' docker.io/library/busybox:latest 2>&1)
  check_eq "with the same image ID and diff IDs ($f)" "${id#sha256:} [$diff]" "$out"
done
"${P[@]}" tag docker.io/library/busybox:latest docker.io/library/busybox:pod >/dev/null 2>&1
check "podman saves a docker-archive" "${P[@]}" save -o "$S/p.tar" docker.io/library/busybox:pod
check "podman saves an oci-archive" "${P[@]}" save --format oci-archive -o "$S/po.tar" docker.io/library/busybox:pod
"$NOOK" rmi -f "$id" >/dev/null
check_status "nook loads what podman saved (docker-archive)" 0 load -i "$S/p.tar"
check_eq "as busybox:pod" "Loaded image: busybox:pod" "$OUT"
check_eq "same image ID" "$id" "$("$NOOK" images -q --no-trunc busybox:pod)"
check_eq "same diff IDs" "$diff " "$(layers_of busybox:pod)"
"$NOOK" rmi -f "$id" >/dev/null
check_status "nook loads podman's oci-archive" 0 load -i "$S/po.tar"
check_eq "same image ID" "$id" "$("$NOOK" images -q --no-trunc busybox:pod)"
check_status "and runs it" 0 run --rm --pull never busybox:pod true
podman_end
nrun system check
check_eq "system check is clean" 0 "$RC"
done_testing
