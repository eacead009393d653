#!/usr/bin/env bash
# t-cli.sh: one voice for every verb: "Error: <Docker's wording>" on stderr, usage errors
# in Docker's CLI form, Docker's exit codes (run: 125/126/127; other verbs: 1; flag errors
# 125); rm -f of a missing container; name conflicts; --format; an unwritable HOME.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# ---- exit codes and messages ----
nrun rm no-such-container-zz9
check_eq "rm of a missing container exits 1 (docker rm nosuch)" 1 "$RC"
check_eq "rm: Error: + Docker's wording" "Error: No such container: no-such-container-zz9" "$ERR"
nrun rmi no-such-image-zz9
check_eq "rmi of a missing image exits 1 (docker rmi nosuch)" 1 "$RC"
check_match "rmi: Error: + the image named" '^Error: .*no-such-image-zz9' "$ERR"
nrun run --pull never --rm no-such-image-zz9
check_eq "run of a missing image exits 125" 125 "$RC"
check_match "run: Error: + Docker's wording" "^Error: Unable to find image 'no-such-image-zz9' locally" "$ERR"
nrun run --rm -u nobody-zz9 busybox true
check_eq "run -u of an unknown user exits 125" 125 "$RC"
check_eq "the passwd message carries no errno text" \
  "Error: unable to find user nobody-zz9: no matching entries in passwd file" "$ERR"
for verb in run ps rm rmi images import bootstrap info version; do
  nrun "$verb" --bogus-zz9
  check_eq "$verb --bogus-zz9 exits 125 (Docker's flag errors)" 125 "$RC"
  check_eq "$verb --bogus-zz9: Docker's CLI form" \
    "unknown flag: --bogus-zz9${NL}See 'nook $verb --help'." "$ERR"
done
nrun rm
check_eq "rm without arguments exits 1" 1 "$RC"
check_match "rm without arguments: Docker's form" "^\"nook rm\" requires at least 1 argument.${NL}See 'nook rm --help'.\$" "$ERR"
nrun run
check_eq "run without arguments exits 125" 125 "$RC"
nrun ps extra
check_eq "ps with an argument exits 1" 1 "$RC"
nrun no-such-verb-zz9
check_eq "an unknown command exits 1 (docker: '...' is not a docker command)" 1 "$RC"
nrun --bogus-zz9 ps
check_eq "an unknown global flag exits 125" 125 "$RC"
out=$("$NOOK" run --rm busybox true 2>&1; "$NOOK" rm zz9-missing 2>&1; "$NOOK" run --bogus 2>&1)
check_no_match "no message starts with 'nook:' or names a daemon" \
  "(^|${NL})(nook: |Error response from daemon)" "$out"

# ---- rm -f ----
nrun rm -f no-such-container-zz9
check_eq "rm -f of a missing container exits 0" 0 "$RC"
check_eq "rm -f of a missing container prints nothing" "" "$OUT$ERR"
check_status "a container to remove" 0 run --name present busybox true
nrun rm -f no-such-container-zz9 present
check_eq "rm -f of a missing and a present one: 0" 0 "$RC"
check_eq "... and it names the one it removed" present "$OUT"

# ---- name conflicts ----
check_status "a named container" 0 run --name taken busybox true
id=$("$NOOK" ps -aq --no-trunc | head -n1)
nrun run --name taken busybox true
check_eq "a name in use: 125" 125 "$RC"
check_match "the conflict names the container that holds the name" "in use by container \"$id\"" "$ERR"
n_ids=$(grep -oE '[0-9a-f]{12,64}' <<<"$ERR" | sort -u | wc -l)
check_eq "no other ID (of a container never made) is named" 1 "$n_ids"
check_status "rm taken" 0 rm taken

# ---- --format ----
check_status "a container for ps" 0 run --name fmt busybox true
nrun ps -a --format json
check_match "ps --format json" '"Names":"fmt"' "$OUT"
nrun ps -a --format=table
check_match "ps --format=table is the table" '^CONTAINER ID' "$OUT"
nrun ps -a --format '{{.Names'
check_eq "ps --format with a broken template: exit 1" 1 "$RC"
check_match "ps --format with a broken template: Docker's parsing error" \
  "^Error: template parsing error: template: :1: unclosed action" "$ERR"
nrun ps --format
check_eq "ps --format without a value: a flag error (125)" 125 "$RC"
check_match "... Docker's message" '^flag needs an argument: --format' "$ERR"
for verb in images info version; do
  nrun "$verb" --format json
  check_eq "$verb --format json exits 0" 0 "$RC"
  check_match "$verb --format json prints JSON objects" '^\{.*"[A-Za-z]+": ?.*\}$' "$(tr -d '\n' <<<"$OUT")"
done
nrun version --format table
check_match "version --format table" '^nook version ' "$OUT"
check_status "rm fmt" 0 rm fmt

# ---- an unwritable or missing HOME ----
nohome() { env -u NOOK_ROOT -u XDG_DATA_HOME HOME=/ "$NOOK" "$@"; }
rc=0
err=$(cd / && nohome images 2>&1 >/dev/null) || rc=$?
check_eq "HOME=/ (unwritable): images exits 1" 1 "$rc"
check_no_match "no '//.local' in the message" '//\.local' "$err"
check_match "it names the directory that could not be made" "mkdir '/\\.local'" "$err"
check_match "it names --root, NOOK_ROOT and XDG_DATA_HOME" '--root.*NOOK_ROOT.*XDG_DATA_HOME' "$err"
rc=0
out=$(cd / && nohome info 2>/dev/null) || rc=$?
check_eq "HOME=/: info exits 1 (a line failed)" 1 "$rc"
check_match "HOME=/: info marks the store line FAILED" '(^|'$'\n'')Store: FAILED: ' "$out"
check_match "HOME=/: info goes on after it (Kernel, helpers, /dev/fuse)" \
  'Kernel: .*newuidmap: .*/dev/fuse: ' "$(tr '\n' ' ' <<<"$out")"
check_status "with --root, the same HOME works" 0 --root "$NOOK_ROOT" images

# ---- info: subordinate ids ----
nrun info
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  check_match "single: info says how to get subordinate ids" \
    'usermod --add-subuids 100000-165535 --add-subgids 100000-165535' "$OUT"
  check_match "single: info says what chown does without them" 'chown and setuid .* emulated' "$OUT"
else
  check_no_match "range: no subordinate-id hint" 'usermod' "$OUT"
fi

done_testing
