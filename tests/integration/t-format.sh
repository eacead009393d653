#!/usr/bin/env bash
# t-format.sh: Go templates in --format of images, info and version (Docker's field names;
# "table TEMPLATE" prints Docker's column titles).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

for verb in images info version; do
  nrun "$verb" --format '{{json .}}'
  check_eq "$verb --format TEMPLATE exits 0" 0 "$RC"
  check_match "$verb --format '{{json .}}' prints a JSON object" '^\{.*\}$' "$(head -n 1 <<<"$OUT")"
  nrun "$verb" --format '{{.Nope'
  check_eq "$verb --format with a broken template: exit 1" 1 "$RC"
  check_match "... Docker's parsing error" "^Error: template parsing error: template: :1: unclosed action" "$ERR"
done

nrun version
V=${OUT#nook version }
nrun version --format '{{.Client.Version}}'
check_eq "version --format '{{.Client.Version}}'" "$V" "$OUT"
nrun info --format '{{.Kernel}}'
check_eq "info --format '{{.Kernel}}' is the kernel's release" "$(uname -r)" "$OUT"
nrun images --format '{{.Repository}}:{{.Tag}}' busybox
check_eq "images --format '{{.Repository}}:{{.Tag}}'" "busybox:latest" "$OUT"
nrun images -q --no-trunc busybox
ID=$OUT
nrun images --no-trunc --format '{{.ID}} {{.Size}}' busybox
check_match "images --format '{{.ID}} {{.Size}}'" "^$ID [0-9.]+[kMG]?B$" "$OUT"
nrun images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}' busybox
check_match "images --format 'table ...' prints Docker's titles" '^REPOSITORY +TAG +IMAGE ID' "$(head -n 1 <<<"$OUT")"
check_match "... then the rows" '^busybox +latest +[0-9a-f]{12}$' "$(sed -n 2p <<<"$OUT")"

done_testing
