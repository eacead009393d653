#!/usr/bin/env bash
# t-health-shell.sh: a CMD-SHELL healthcheck runs in the image's SHELL (Docker's
# daemon/health.go getShell: Config.Shell, else /bin/sh -c), and Config.Shell is the
# image's in inspect; a healthcheck kind Docker does not know is none. Observed through
# the probe's output in State.Health.Log, polled with a deadline.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
SHELL ["/usr/bin/env", "PROBE_SHELL=image-shell", "/bin/sh", "-c"]
HEALTHCHECK --interval=200ms --start-interval=200ms CMD echo "via $PROBE_SHELL"
DF
nrun build -q -t hshell "$ctx"
check_eq "an image with SHELL and HEALTHCHECK builds" 0 "$RC"

nrun run -d --name hs1 hshell sleep 1000
check_eq "run -d of it" 0 "$RC"
nrun inspect -f '{{json .Config.Shell}}' hs1
check_eq "inspect: Config.Shell is the image's" \
  '["/usr/bin/env","PROBE_SHELL=image-shell","/bin/sh","-c"]' "$OUT"
probed() { "$NOOK" inspect -f '{{json .State.Health.Log}}' hs1 2>/dev/null | grep -q '"Output"'; }
wait_until "a probe ran" 30 probed
nrun inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' hs1
check_match "the probe ran in the image's SHELL" '^via image-shell' "$OUT"
nrun inspect -f '{{.State.Health.Status}}' hs1
check_eq "... and passed" healthy "$OUT"

# --health-cmd over it: still the image's shell (the kind is CMD-SHELL)
nrun run -d --name hs2 --health-cmd 'echo "flag $PROBE_SHELL"' --health-interval 200ms hshell sleep 1000
probed2() { "$NOOK" inspect -f '{{json .State.Health.Log}}' hs2 2>/dev/null | grep -q '"Output"'; }
wait_until "a probe of --health-cmd ran" 30 probed2
nrun inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' hs2
check_match "--health-cmd runs in the image's SHELL too" '^flag image-shell' "$OUT"

# an image without SHELL: /bin/sh -c (the variable unset)
nrun run -d --name hs3 --health-cmd 'echo "plain [$PROBE_SHELL]"' --health-interval 200ms busybox sleep 1000
probed3() { "$NOOK" inspect -f '{{json .State.Health.Log}}' hs3 2>/dev/null | grep -q '"Output"'; }
wait_until "a probe in an image without SHELL ran" 30 probed3
nrun inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' hs3
check_match "without SHELL: /bin/sh -c" '^plain \[\]' "$OUT"

"$NOOK" rm -f hs1 hs2 hs3 >/dev/null
"$NOOK" rmi hshell >/dev/null
done_testing
