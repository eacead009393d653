#!/usr/bin/env bash
# t-seccomp-cache.sh: the compiled seccomp programs cached in the store (cache/seccomp/)
# are loaded only when they are what their name says: a raw allow-all program, an entry
# of another key renamed into place, a truncated entry, one others may write, or a
# symlink is compiled again, and the container still gets Docker's whole filter
# (checked from inside: Seccomp 2 and denied system calls).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
[ -x "$PROBE" ] || skip_all "PROBE ($PROBE) is not executable"
pv=$(probe_vol)
cache=$NOOK_ROOT/cache/seccomp

probe_val() {
  sed -n "s/^$1=//p" <<<"$OUT" | head -n 1
}

# filtered WHAT: the container's command runs under the whole default filter
filtered() {
  nrun run --rm -v "$pv" busybox sh -c '/probe status; /probe userns; /probe keyctl; exit 0'
  check_eq "$1: the run succeeds" 0 "$RC"
  check_eq "$1: Seccomp is 2 (filter)" 2 "$(probe_val Seccomp)"
  check_eq "$1: a nested user namespace is denied (unshare EPERM)" EPERM "$(probe_val unshare)"
  check_match "$1: keyctl is denied" '^(EPERM|ENOSYS)$' "$(probe_val keyctl)"
}

# entries: the cache's files (the default profile's program, for this user's runs)
entries() {
  find "$cache" -maxdepth 1 -type f -name '*.bpf' 2>/dev/null | sort
}

nrun run --rm busybox true
check_eq "a run fills the cache" 0 "$RC"
mapfile -t files < <(entries)
check_eq "the cache holds the default profile's program" 1 "$([ ${#files[@]} -ge 1 ] && echo 1 || echo 0)"
filtered "from the cache"

# The cached program is the compacted one (sandbox/seccomp_compact.h): Docker's profile
# for x86_64 and i386 takes ~870 instructions as libseccomp compiles it, ~220 dispatched
# on ranges of numbers (the header's program length: a u32 at byte 16; 8 bytes a
# BPF instruction).
insns() { od -An -tu4 -j16 -N4 "$1" | awk '{ print int($1 / 8) }'; }
if [ "$(uname -m)" = x86_64 ] && [ ${#files[@]} -ge 1 ]; then
  n=$(insns "${files[0]}")
  check_eq "the cached program is compact (< 400 instructions, libseccomp's ~870; has $n)" 1 \
    "$([ "${n:-0}" -gt 0 ] && [ "${n:-0}" -lt 400 ] && echo 1 || echo 0)"
fi

# An allow-all program: one BPF instruction, RET SECCOMP_RET_ALLOW (0x7fff0000).
allow=$(mktemp "${TMPDIR:-/tmp}/nook-allow.XXXXXX")
printf '\006\000\000\000\000\000\377\177' >"$allow"

for f in "${files[@]}"; do cp "$allow" "$f"; done
filtered "a raw allow-all program in the cache"

# another key's entry (an allow-all profile's, well formed) renamed over the default's
prof=$(mktemp "${TMPDIR:-/tmp}/nook-prof.XXXXXX")
echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$prof"
before=$(entries)
nrun run --rm --security-opt "seccomp=$prof" busybox true
check_eq "a run with an allow-all profile succeeds" 0 "$RC"
other=$(comm -13 <(echo "$before") <(entries) | head -n 1)
check_eq "the profile's program is cached under its own name" 1 "$([ -n "$other" ] && echo 1 || echo 0)"
if [ -n "$other" ]; then
  for f in "${files[@]}"; do cp "$other" "$f"; done
fi
filtered "another profile's entry renamed into place"

for f in "${files[@]}"; do truncate -s 800 "$f"; done
filtered "a truncated entry"

nrun run --rm busybox true # a good entry again
for f in "${files[@]}"; do chmod 0666 "$f"; done
filtered "an entry others may write"

for f in "${files[@]}"; do
  cp "$allow" "$f.target"
  rm -f "$f"
  ln -s "$f.target" "$f"
done
filtered "a symlink in the cache"
rm -f "$cache"/*.target

# exec into a foreground --rm run reads the program its record names from the cache: a
# tampered one is refused (exec fails), never loaded.
nrun run --rm busybox true # a good entry again
gate=$(make_gate sc-gate)
"$NOOK" run --rm -v "$gate:/gate" -v "$pv" busybox sh -c 'read x </gate' >"$T_SCRATCH/run.out" 2>&1 &
rpid=$!
listed() { "$NOOK" ps -q --no-trunc | grep -qE '^[0-9a-f]{64}$'; }
wait_until "ps lists the foreground --rm run" 30 listed
id=$("$NOOK" ps -q --no-trunc | head -1)
nrun exec "$id" /probe status
check_eq "exec with the cached program: Seccomp 2" 2 "$(probe_val Seccomp)"
mapfile -t files < <(entries)
for f in "${files[@]}"; do cp "$allow" "$f"; done
nrun exec "$id" /probe userns
check_eq "exec with a tampered cached program fails" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
check_eq "... and nothing ran unfiltered" "" "$(probe_val unshare)"
check_match "... saying why" "seccomp program" "$ERR"
open_gate "$gate"
wait "$rpid"
rm -f "$allow" "$prof"

done_testing
