#!/usr/bin/env bash
# t-build-cred.sh: `nook build` for a user without a subordinate range: RUN steps as root
# run with the credential emulation (su, chown -R, files made under an emulated uid), and
# the layers record the owners exactly as they do for a user with a range (the same
# entries, so the same layers); COPY --chown too. A RUN step under another USER says once
# that owners are approximate. Nook's bookkeeping xattrs never reach a layer.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# layers IMAGE: "N path uid:gid:mode" for every entry of every layer above the base, and
# "XATTR path name" for every extended attribute a layer carries (PAX headers)
layers() {
  "$NOOK" save -o "$T_SCRATCH/img.tar" "$1"
  python3 - "$T_SCRATCH/img.tar" <<'PY'
import io, json, sys, tarfile
a = tarfile.open(sys.argv[1])
manifest = json.load(a.extractfile("manifest.json"))[0]
for i, layer in enumerate(manifest["Layers"][1:]):
    for m in tarfile.open(fileobj=io.BytesIO(a.extractfile(layer).read())):
        print(i, m.name, "%d:%d:%o" % (m.uid, m.gid, m.mode))
        for k in m.pax_headers:
            if k.startswith("SCHILY.xattr.") or k.startswith("LIBARCHIVE.xattr."):
                print("XATTR", m.name, k)
PY
}

c=$T_SCRATCH/cred
mkdir -p "$c"
echo hello >"$c/f.txt"
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox
RUN echo 'app:x:1001:2000::/home/app:/bin/sh' >> /etc/passwd && echo 'grp:x:2000:' >> /etc/group \
 && mkdir -p /data/sub /home/app && touch /data/a /data/sub/b && chown -R 1001:2000 /data /home/app \
 && chown 33:33 /data/a && chmod 4755 /data/sub/b
RUN su app -c 'touch /tmp/made-by-app; mkdir /tmp/appdir; id' && stat -c '%n %u:%g %a' /tmp/made-by-app /tmp/appdir /data/a /data/sub/b && id
COPY --chown=1001:2000 f.txt /home/app/f.txt
EOF2
nrun build --progress=plain -t cred "$c"
check_eq "the build succeeds ($NOOK_TEST_USER_KIND user)" 0 "$RC"
check_match "su drops to the user inside the step" 'uid=1001\(app\) gid=2000\(grp\) groups=2000\(grp\)' "$ERR"
check_match "and the step's root stays root" "${NL}#[0-9]+ [0-9.]+ uid=0\\(root\\) gid=0\\(root\\)" "$ERR"
check_match "files made by su's user are its own (seen inside the step)" \
  "/tmp/made-by-app 1001:2000 644${NL}.*/tmp/appdir 1001:2000 755" "$ERR"
check_match "chown -R, then chown of one file" "/data/a 33:33 644${NL}.*/data/sub/b 1001:2000 4755" "$ERR"
check_no_match "no approximation note for root steps" "approximate" "$ERR"

expected="0 data 1001:2000:755
0 data/a 33:33:644
0 data/sub 1001:2000:755
0 data/sub/b 1001:2000:4755
0 etc 0:0:755
0 etc/group 0:0:644
0 etc/passwd 0:0:644
0 home 0:0:755
0 home/app 1001:2000:755
1 tmp 0:0:1777
1 tmp/appdir 1001:2000:755
1 tmp/made-by-app 1001:2000:644
2 home 0:0:755
2 home/app 1001:2000:755
2 home/app/f.txt 1001:2000:644"
got=$(layers cred)
check_eq "the layers record every owner, as for a user with a range, and no xattr" "$expected" "$got"

nrun run --rm --user 0 cred ls -ln /data /home/app /tmp
lsn=$(awk 'NF >= 9 { print $3 ":" $4 " " $9 }' <<<"$OUT")
check_match "ls -ln in the built image: chown" "(^|$NL)33:33 a($NL|$)" "$lsn"
check_match "ls -ln in the built image: COPY --chown" "(^|$NL)1001:2000 f.txt($NL|$)" "$lsn"
check_match "ls -ln in the built image: made under su" "(^|$NL)1001:2000 made-by-app($NL|$)" "$lsn"

# the same image for both kinds of user: the ID is a function of the entries above and
# of the base, printed for the lead to compare across users
nrun images --no-trunc -q cred
diag "image ID ($NOOK_TEST_USER_KIND user): $OUT"

# a step under another USER: the note, once, for the user without a range
cat >>"$c/Dockerfile" <<'EOF2'
USER app
RUN id -u && touch /tmp/as-user
RUN id -u
EOF2
nrun build --progress=plain -t cred2 "$c"
check_eq "a build with USER app succeeds" 0 "$RC"
check_match "the step runs as the user" "${NL}#[0-9]+ [0-9.]+ 1001${NL}" "$ERR"
n=$(grep -c "owners and permission checks it sees are approximate" <<<"$ERR")
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  check_eq "the note that owners are approximate, once" 1 "$n"
else
  check_eq "no note with a range" 0 "$n"
fi
got=$(layers cred2)
check_no_match "no private xattr in any layer" "XATTR" "$got"
check_match "a file the USER step made is the user's in the layer (recorded for a user without a range)" \
  "${NL}3 tmp/as-user 1001:2000:644($NL|$)" "$got"
check_match "and /tmp, copied up, keeps its owner" "${NL}3 tmp 0:0:1777${NL}" "$got"
nrun images --no-trunc -q cred2
diag "image ID with USER ($NOOK_TEST_USER_KIND user): $OUT"

done_testing
