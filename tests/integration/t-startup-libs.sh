#!/usr/bin/env bash
# t-startup-libs.sh: `nook run` of an image already in the store loads none of the
# libraries nook opens on first use (libcurl for registries, libarchive for tars,
# nettle for digests: its constructor probes the CPU), and reads no registry config.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# (the first run of an image unpacks its layers: libarchive and nettle then)
"$NOOK" run --rm busybox true >/dev/null 2>&1
# The dynamic loader reports every object it loads, dlopen()ed ones included (the
# container's busybox is static and gets the image's environment, not ours).
out=$(LD_DEBUG=libs "$NOOK" run --rm busybox true 2>&1 >/dev/null)
check_match "LD_DEBUG=libs reports what nook loads (else the next check proves nothing)" \
  'libc\.so\.6' "$out"
check_no_match "nook run of a present image loads no libcurl, libarchive or nettle" \
  'libcurl|libarchive|libnettle' "$out"

# The digests are still computed where blobs enter the store: an import loads nettle.
mkdir -p "$T_SCRATCH/root"
echo x >"$T_SCRATCH/root/f"
tar -C "$T_SCRATCH/root" -cf "$T_SCRATCH/root.tar" .
out=$(LD_DEBUG=libs "$NOOK" import "$T_SCRATCH/root.tar" startup-libs:x 2>&1 >/dev/null)
check_match "an import loads nettle for its digests" 'libnettle' "$out"
"$NOOK" rmi startup-libs:x >/dev/null 2>&1

done_testing
