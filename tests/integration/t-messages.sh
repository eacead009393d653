#!/usr/bin/env bash
# t-messages.sh: errors of bad input say what is wrong and end there: no trailing errno
# text that adds nothing (": Invalid argument", ": Numerical result out of range"), and
# every verb speaks with "Error: " (issue 13, "Messages and exit codes").
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

printf 'A=1\nB\0C=1\n' >"$T_SCRATCH/nul.env"
printf 'A=1\n\033[31mBAD LINE\n' >"$T_SCRATCH/bad.env"
echo '{bad' >"$T_SCRATCH/bad.json"
printf '# nothing but a comment\n' >"$T_SCRATCH/Dockerfile.bad"
: >"$T_SCRATCH/empty.tar"

# no_errno_tail DESC EXPECTED-STATUS NOOK-ARGS...: the run fails with that status, its
# message starts with "Error: " and does not end in a useless errno string.
no_errno_tail() {
  local desc=$1 status=$2
  shift 2
  nrun "$@"
  check_eq "$desc: exit $status" "$status" "$RC"
  check_match "$desc: 'Error: ' voice" '^Error: ' "$ERR"
  check_no_match "$desc: no trailing errno text" \
    ': (Invalid argument|Numerical result out of range)$' "$ERR"
}

no_errno_tail "-v with an empty host path" 125 run --rm -v :/tmp:/x busybox true
no_errno_tail "-v with conflicting options" 125 run --rm -v /tmp:/x:ro,rw busybox true
no_errno_tail "-v with an unknown option" 125 run --rm -v /tmp:/x:bogus busybox true
no_errno_tail "-v with a relative host path" 125 run --rm -v ./tmp:/x busybox true
no_errno_tail "--env-file with a NUL byte" 125 run --rm --env-file "$T_SCRATCH/nul.env" busybox true
no_errno_tail "--env-file with an invalid line" 125 run --rm --env-file "$T_SCRATCH/bad.env" busybox true
no_errno_tail "-e with an empty name" 125 run --rm -e =x busybox true
no_errno_tail "--cap-add of an unknown capability" 125 run --rm --cap-add BOGUS busybox true
no_errno_tail "a seccomp profile that is not JSON" 125 \
  run --rm --security-opt "seccomp=$T_SCRATCH/bad.json" busybox true
no_errno_tail "-u with an id out of range" 125 run --rm -u 99999999999 busybox true
no_errno_tail "-w relative" 125 run --rm -w relative busybox true
no_errno_tail "--tmpfs with a bad option" 125 run --rm --tmpfs /x:size=bogus busybox true
no_errno_tail "--storage-driver unknown" 125 --storage-driver bogus run --rm busybox true
no_errno_tail "import under a sha256 repository" 1 \
  import "$T_SCRATCH/empty.tar" "sha256:$(printf '%064d' 0)"
no_errno_tail "import under a 64-hex repository" 1 import "$T_SCRATCH/empty.tar" "$(printf '%064d' 0)"
no_errno_tail "import of an empty file" 1 import "$T_SCRATCH/empty.tar" empty-zz9
no_errno_tail "import of a file that is not a tar" 1 import "$T_SCRATCH/bad.json" bad-zz9
no_errno_tail "dockerfile parse of an invalid Dockerfile" 1 \
  dockerfile parse "$T_SCRATCH/Dockerfile.bad"
check_match "dockerfile parse: the message names the file" "Dockerfile.bad" "$ERR"

# An image whose /etc/passwd cannot be opened (a symlink loop): without -u the run goes
# on, and the warning says why (it used to end at "open /etc/passwd").
img=$T_SCRATCH/loop-rootfs
mkdir -p "$img/bin" "$img/etc"
cp /bin/busybox "$img/bin/busybox"
ln -s busybox "$img/bin/true"
ln -s passwd2 "$img/etc/passwd"
ln -s passwd "$img/etc/passwd2"
tar -C "$img" -cf "$T_SCRATCH/loop.tar" . && "$NOOK" import "$T_SCRATCH/loop.tar" pwloop-zz9 >/dev/null
nrun run --rm pwloop-zz9 true
check_eq "a looping /etc/passwd without -u: the run succeeds" 0 "$RC"
check_match "the warning says why /etc/passwd is treated as missing" \
  "pwloop-zz9: open /etc/passwd: $(printf '%s' 'Too many levels of symbolic links'); treated as missing" "$ERR"

done_testing
