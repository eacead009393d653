#!/usr/bin/env bash
# t-cp.sh: nook cp both ways, for a stopped and a running container, tar streams with
# '-', Docker's naming rules, owners, and symlinks of the container that must not lead
# out of its root (neither when reading nor when writing).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

H=$T_SCRATCH/host
mkdir -p "$H" && cd "$H" || exit 1
echo "host secret" >"$T_SCRATCH/secret"
# the container's tree: files, a directory, links pointing out of its root
check_status "a stopped container with files and escaping links" 0 run --name src busybox sh -c "
  mkdir -p /d/sub && echo hello > /d/f && echo deep > /d/sub/g &&
  ln -s $T_SCRATCH/secret /d/abs && ln -s ../../../../../../../../..$T_SCRATCH/secret /d/rel &&
  ln -s $T_SCRATCH /d/dirlink"

# out of a stopped container
check_status "cp CTR:/file ./name" 0 cp src:/d/f ./f1
check_eq "... its content" hello "$(cat f1)"
check_status "cp CTR:/dir ." 0 cp src:/d .
check_eq "... the tree" "deep" "$(cat d/sub/g)"
check "... a symlink is copied as a link, not followed" test -L d/abs
check "cp CTR:/dir/. existing-dir (contents)" sh -c "mkdir -p c && '$NOOK' cp src:/d/. c"
check "... contents only" test -f c/f -a -d c/sub -a ! -e c/d
nrun cp src:/etc/hostname hn
check_eq "cp of a stopped container's /etc/hostname: the container's" \
  "$("$NOOK" inspect -f '{{.Config.Hostname}}' src)" "$(cat hn)"
nrun cp src:/d/abs/x ./x
check_eq "a path through a link out of the root is not found (1)" 1 "$RC"
nrun cp src:/d/dirlink/secret ./y
check_eq "... nor through a directory link to a host path" 1 "$RC"
check "... nothing of the host's was copied" test ! -e y -a ! -e x
nrun cp src:/d/rel/ ./z
check "... a relative link climbing out gives nothing of the host's" test ! -e z/secret
nrun cp src:/nonexistent .
check_eq "a missing source: exit 1" 1 "$RC"
check_match "... Docker's message" 'Could not find the file /nonexistent in container src' "$ERR"
nrun cp nosuch:/x .
check_match "an unknown container" 'No such container: nosuch' "$ERR"
nrun cp ./f1 ./f2
check_match "two local paths are refused" 'must specify at least one container source' "$ERR"

# tar streams
"$NOOK" cp src:/d - >"$T_SCRATCH/d.tar"
check_eq "cp CTR:/dir - writes a tar of it" "d/${NL}d/abs${NL}d/dirlink${NL}d/f${NL}d/rel${NL}d/sub/${NL}d/sub/g" \
  "$(tar -tf "$T_SCRATCH/d.tar" | sort)"
mkdir -p in/sub && echo one >in/a && echo two >in/sub/b
tar -C in -cf "$T_SCRATCH/in.tar" .
NRUN_STDIN=$T_SCRATCH/in.tar nrun cp - src:/d/sub
check_eq "cp - CTR:/dir extracts a tar from stdin" 0 "$RC"
check_eq "... into that directory" "two" "$("$NOOK" cp src:/d/sub/sub/b - | tar -xO)"
NRUN_STDIN=$T_SCRATCH/in.tar nrun cp - src:/d/f
check_match "cp - to a file is refused" 'must be a directory' "$ERR"

# into a stopped container: names, owners, links that must not be followed out
echo local >lf
check_status "cp ./file CTR:/dir/" 0 cp ./lf src:/tmp/
check_status "cp ./file CTR:/newname" 0 cp ./lf src:/d/renamed
check_status "cp ./dir CTR:/tmp" 0 cp in src:/tmp
check_eq "the copies are there" "local local one" \
  "$("$NOOK" cp src:/tmp/lf - | tar -xO) $("$NOOK" cp src:/d/renamed - | tar -xO) $("$NOOK" cp src:/tmp/in/a - | tar -xO)"
check_eq "owned by the container's root without -a" "0 0" \
  "$("$NOOK" cp src:/tmp/lf - | tar -tv --numeric-owner | awk '{print $2}' | tr / ' ')"
check_status "cp onto a link that points out of the root" 0 cp ./lf src:/d/abs
check_eq "the host file behind the link is untouched" "host secret" "$(cat "$T_SCRATCH/secret")"
nrun cp ./lf src:/d/dirlink/
check_eq "cp into a directory link to a host path: resolved in the root, where it is missing (1)" 1 "$RC"
check "... nothing lands on the host" test ! -e "$T_SCRATCH/lf"

# a running container (a foreground run in the background of this script)
mkdir -p "$T_SCRATCH/alive" && : >"$T_SCRATCH/alive/run"
"$NOOK" run --rm --name live -v "$T_SCRATCH/alive:/alive" busybox sh -c \
  "echo running > /r.txt; ln -s $T_SCRATCH/secret /esc; touch /alive/ready; while [ -e /alive/run ]; do sleep 0.1; done" \
  >/dev/null 2>&1 &
live=$!
if wait_until "the running container is ready" 60 test -e "$T_SCRATCH/alive/ready"; then
  check_status "cp out of a running container" 0 cp live:/r.txt ./r
  check_eq "... its file" running "$(cat r)"
  check_status "cp into a running container" 0 cp ./lf live:/tmp/
  check_eq "... seen in it" local "$("$NOOK" cp live:/tmp/lf - | tar -xO)"
  nrun cp live:/esc/ ./e
  check "a link out of the running container's root is not followed" test ! -e e/secret
  check_status "cp of a volume's file of a running container" 0 cp live:/alive/ready ./ready
fi
rm -f "$T_SCRATCH/alive/run"
wait "$live"

done_testing
