#!/usr/bin/env bash
# t-save-direct.sh: `nook save` to a regular file writes around the page cache (O_DIRECT)
# where the file system allows it; the archive must be the same bytes whatever the output:
# -o FILE, stdout redirected to a file, a pipe, a file opened for appending, a file whose
# offset is not block-aligned, and the buffered path forced (NOOK_SAVE_BUFFERED=1).  The
# shell's stdout gets its flags back: what the shell writes after nook is there.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
S=$T_SCRATCH

# an image of one gzip layer with a 6 MiB file (several staging buffers) and odd sizes
mkdir -p "$S/root/d"
head -c 6291457 /dev/urandom >"$S/root/big"
for n in 1 511 513 4097; do head -c "$n" /dev/urandom >"$S/root/d/f$n"; done
tar -C "$S/root" -czf "$S/root.tar.gz" .
check_status "import a gzip tarball" 0 import "$S/root.tar.gz" direct:1
id=$("$NOOK" images -q --no-trunc direct:1)

check_status "save -o" 0 save -o "$S/a.tar" direct:1
"$NOOK" save direct:1 >"$S/b.tar"
check "save > file: the same bytes" cmp "$S/a.tar" "$S/b.tar"
"$NOOK" save direct:1 | cat >"$S/c.tar"
check "save | cat: the same bytes" cmp "$S/a.tar" "$S/c.tar"
NOOK_SAVE_BUFFERED=1 "$NOOK" save -o "$S/d.tar" direct:1
check "buffered: the same bytes" cmp "$S/a.tar" "$S/d.tar"

{
  "$NOOK" save direct:1
  printf 'tail'
} >"$S/e.tar"
check_eq "the shell writes to its stdout after nook (its flags given back)" "tail" \
  "$(tail -c 4 "$S/e.tar")"
check "... after the same archive" cmp -n "$(stat -c %s "$S/a.tar")" "$S/a.tar" "$S/e.tar"

printf 'head' >"$S/f.tar"
"$NOOK" save direct:1 >>"$S/f.tar"
check "save >> file (appending)" cmp "$S/a.tar" <(tail -c +5 "$S/f.tar")
{
  printf 'x'
  "$NOOK" save direct:1
} >"$S/g.tar"
check "save at an unaligned offset" cmp "$S/a.tar" <(tail -c +2 "$S/g.tar")

check_status "rmi" 0 rmi direct:1
check_status "load the archive" 0 load -i "$S/a.tar"
check_eq "the image ID is unchanged" "$id" "$("$NOOK" images -q --no-trunc direct:1)"
check_status "save again after the load" 0 save -o "$S/h.tar" direct:1
check "... the same bytes" cmp "$S/a.tar" "$S/h.tar"
done_testing
