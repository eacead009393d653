#!/usr/bin/env bash
# t-credemu-none.sh: t-credemu.sh again with every `run` under --network none. There a
# single-id root run's command is started early (sandbox/child.c), to make the network
# namespace while PID 1 mounts the rootfs, and loads its notifying program late, with
# the listener it hands PID 1: the emulation must see and answer the same calls as when
# the command starts late (t-credemu.sh's default network).
set -u
: "${NOOK:?NOOK must name the nook binary}"
wrap=$(mktemp -d "${TMPDIR:-/tmp}/nook-none.XXXXXX")
trap 'rm -rf "$wrap"' EXIT
real=$(command -v "$NOOK")
cat >"$wrap/nook" <<EOS
#!/bin/sh
if [ "\${1:-}" = run ] || [ "\${1:-}" = create ]; then
  verb=\$1
  shift
  exec "$real" "\$verb" --network none "\$@"
fi
exec "$real" "\$@"
EOS
chmod 0755 "$wrap/nook"
NOOK=$wrap/nook bash "$(dirname "$0")/t-credemu.sh"
