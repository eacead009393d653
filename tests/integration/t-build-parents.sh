#!/usr/bin/env bash
# t-build-parents.sh: `COPY --parents` (issue 17; Dockerfile 1.7 labs, BuildKit's
# semantics): each source's path is kept under the destination, globs included; a "/./"
# in a source is the pivot (what is before it is not kept); a directory source keeps its
# name; the parent directories keep their modes; --from a stage too; without --parents the
# same sources are flattened.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx/x/sub" "$ctx/y" "$ctx/src/app/lib" "$ctx/tree/in"
echo xa >"$ctx/x/a.txt"
echo xs >"$ctx/x/sub/s.txt"
echo ya >"$ctx/y/a.txt"
echo yb >"$ctx/y/b.md"
echo lib >"$ctx/src/app/lib/l.txt"
echo t >"$ctx/tree/in/t"
chmod 0750 "$ctx/x"
cat >"$ctx/Dockerfile" <<'DF'
# syntax=docker/dockerfile:1.7-labs
FROM busybox AS other
RUN mkdir -p /opt/o/deep && echo o >/opt/o/deep/f && chmod 0711 /opt/o
FROM busybox
COPY --parents x/a.txt y/a.txt /p1/
COPY --parents */*.txt /p2/
COPY --parents src/./app/lib/l.txt /p3/
COPY --parents tree /p4/
COPY --parents --from=other /opt/o/deep/f /p5/
COPY --parents --from=other /opt/./o/deep /p6/
COPY x/a.txt y/b.md /flat/
DF
nrun build -q -t par "$ctx"
check_eq "the build succeeds" 0 "$RC"
nrun run --rm par find /p1 /p2 /p3 /p4 /p5 /p6 /flat
check_eq "each path kept under its destination (pivot, directories, --from)" \
  "/flat
/flat/a.txt
/flat/b.md
/p1
/p1/x
/p1/x/a.txt
/p1/y
/p1/y/a.txt
/p2
/p2/x
/p2/x/a.txt
/p2/y
/p2/y/a.txt
/p3
/p3/app
/p3/app/lib
/p3/app/lib/l.txt
/p4
/p4/tree
/p4/tree/in
/p4/tree/in/t
/p5
/p5/opt
/p5/opt/o
/p5/opt/o/deep
/p5/opt/o/deep/f
/p6
/p6/o
/p6/o/deep
/p6/o/deep/f" "$(LC_ALL=C sort <<<"$OUT")"
nrun run --rm par sh -c 'cat /p1/x/a.txt /p3/app/lib/l.txt /p6/o/deep/f; stat -c "%a %u:%g" /p1/x /p5/opt/o'
check_eq "the contents, the parents' modes kept" "xa${NL}lib${NL}o${NL}750 0:0${NL}711 0:0" "$OUT"

printf 'FROM busybox\nCOPY --parents=maybe x /d/\n' >"$ctx/Dockerfile"
nrun build -q "$ctx"
check_eq "--parents=maybe: refused" 1 "$RC"
check_match "naming the flag" "parents" "$ERR"
done_testing
