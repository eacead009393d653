#!/usr/bin/env bash
# t-compose-more3.sh: secrets and configs copied at start into a tmpfs of the container
# (nook run --mount type=copy), read-only, with uid, gid and mode (for file: sources too,
# deliberately, where Docker Compose ignores them); an edit of the file is not seen by the
# running container, only after a restart.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

S=$T_SCRATCH/sec
mkdir -p "$S"
cd "$S" || exit 1
printf 'v1' >pw.txt
printf 'x' >big.txt
if [ "$NOOK_TEST_USER_KIND" = range ]; then ids='uid: "1000"
        gid: "5"'; want='1000 5 440'; else ids='uid: "0"
        gid: "0"'; want='0 0 440'; fi
cat >compose.yaml <<YAML
name: cp3
services:
  app:
    image: busybox
    command: sleep 1000
    secrets:
      - source: pw
        $ids
        mode: 0440
    configs:
      - source: conf
        target: /etc/app.conf
YAML
cat >>compose.yaml <<'YAML'
secrets:
  pw:
    file: ./pw.txt
configs:
  conf:
    content: "k=v"
YAML
nrun compose up -d
check_eq "up" 0 "$RC"
nrun compose exec -T app sh -c 'cat /run/secrets/pw; echo; stat -c "%u %g %a" /run/secrets/pw'
check_eq "a file: secret with its uid, gid and mode" "v1${NL}$want" "$OUT"
nrun compose exec -T app sh -c 'while read -r dev mnt fs rest; do [ "$mnt" = /run/secrets/pw ] && echo "$fs ${rest%%,*}"; done </proc/mounts'
check_eq "... on a tmpfs, read-only" "tmpfs ro" "$OUT"
nrun compose exec -T app sh -c 'while read -r dev mnt fs rest; do [ "$mnt" = /etc/app.conf ] && echo "$fs"; done </proc/mounts; cat /etc/app.conf'
check_eq "a content: config on a tmpfs too" "tmpfs${NL}k=v" "$OUT"
printf 'v2' >pw.txt
nrun compose exec -T app cat /run/secrets/pw
check_eq "a later edit of the file is not seen (a copy, not a bind)" "v1" "$OUT"
nrun compose restart app
check_eq "restart" 0 "$RC"
nrun compose exec -T app cat /run/secrets/pw
check_eq "... the next start copies it again" "v2" "$OUT"
nrun compose down
check_eq "down" 0 "$RC"

nrun run --rm --mount type=bind,src="$S/pw.txt",dst=/x,mode=0400 busybox true
check_eq "run --mount mode= on a bind: 125" 125 "$RC"
check_match "... naming the field" 'mode= is only for type=copy' "$ERR"
nrun run --rm --mount type=copy,src="$S/nope",dst=/x busybox true
check_eq "run --mount type=copy of a missing file: 125" 125 "$RC"
check_match "... naming it" 'copy source path is not a regular file' "$ERR"

done_testing
