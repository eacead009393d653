/* cmd/bootstrap_debian.c: `nook bootstrap debian:SUITE [--include PKG,...] [--mirror URL]
 * [-t NAME]`: flags, the mmdebstrap mode for this user, then imagefmt_bootstrap_debian. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "imagefmt/bootstrap_debian.h"
#include "imagefmt/ref.h"
#include "imagefmt/store.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RANGE_HINT                                                                                 \
  "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s (with uidmap)"

void
cmd_bootstrap_debian_usage (void)
{
  printf ("Usage:  nook bootstrap debian:SUITE [OPTIONS]\n\n"
          "Create a Debian base image (mmdebstrap, variant minbase) from Debian's packages,\n"
          "without a registry: from the mirror and proxy of this host's apt configuration\n"
          "(SUITE, SUITE-updates, SUITE-security), tagged debian:SUITE by default\n\n"
          "Options:\n"
          "      --include PKG,...   Also install these packages (repeatable)\n"
          "      --mirror URL        Take SUITE's packages from this Debian mirror only\n"
          "  -t, --tag NAME          Name the image (default debian:SUITE)\n\n"
          "With a subordinate id range mmdebstrap runs in unshare mode (any suite); without\n"
          "one in fakechroot mode, which builds only this host's own release. Both give the\n"
          "same image ID for the same mirror content: files are dated at most the newest\n"
          "Release date of the suites (SOURCE_DATE_EPOCH), which is also `created`.\n");
}

static bool
in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  cleanup_free char *copy = xstrdup (path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *p = xasprintf ("%s/%s", d, prog);
      if (access (p, X_OK) == 0)
        return true;
    }
  return false;
}

static bool
mirror_valid (const char *m)
{
  if (!(str_has_prefix (m, "http://") || str_has_prefix (m, "https://")
        || str_has_prefix (m, "file:/")))
    return false;
  for (const char *c = m; *c; c++)
    if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '\'' || *c == '"')
      return false;
  return strlen (m) < 1024;
}

/* --include a,b --include c -> {a, b, c}. */
static int
add_includes (char ***v, const char *list, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (list);
  char *save = NULL;
  for (char *p = strtok_r (copy, ",", &save); p; p = strtok_r (NULL, ",", &save))
    {
      if (!imagefmt_debian_package_valid (p))
        return nook_error_set (err, 0, "--include: '%s' is not a Debian package name", p);
      if (!strv_contains (*v, p))
        strv_push (v, p);
    }
  return 0;
}

static void
progress (const char *line)
{
  fprintf (stderr, "bootstrap: %s\n", line);
  fflush (stderr);
}

/* Unshare mode needs a range (mmdebstrap maps it itself with newuidmap); otherwise
 * fakechroot mode, which runs the host's libc inside: the host's release only. */
static int
pick_mode (const char *suite, enum imagefmt_debian_mode *mode, nook_error_t *err)
{
  struct idmap_plan_input in;
  if (sandbox_idmap_probe (&in, err) < 0)
    return -1;
  if (getuid () == 0 || (in.have_uid_range && in.have_gid_range && in.have_helpers))
    {
      *mode = IMAGEFMT_DEBIAN_UNSHARE;
      return 0;
    }
  *mode = IMAGEFMT_DEBIAN_FAKECHROOT;
  struct passwd *pw = getpwuid (getuid ());
  cleanup_free char *user = pw ? xstrdup (pw->pw_name) : xasprintf ("%u", (unsigned)getuid ());
  cleanup_free char *host = imagefmt_debian_host_codename ();
  if (host == NULL || strcmp (host, suite) != 0)
    return nook_error_set (
        err, 0,
        "cannot bootstrap debian:%s without a subordinate id range: mmdebstrap's fakechroot "
        "mode runs this host's libc inside, so it builds only the host's own release (%s). "
        "Bootstrap debian:%s, or get a range: " RANGE_HINT,
        suite, host ? host : "unknown: no VERSION_CODENAME in /etc/os-release",
        host ? host : "SUITE", user);
  if (!in_path ("fakechroot") || !in_path ("fakeroot"))
    return nook_error_set (
        err, 0,
        "without a subordinate id range, bootstrap needs fakechroot and "
        "fakeroot (apt-get install fakechroot fakeroot), or a range: " RANGE_HINT,
        user);
  return 0;
}

int
cmd_bootstrap_debian (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **include = xzalloc (sizeof (char *));
  cleanup_free char *id = NULL;
  const char *mirror = NULL, *tag = NULL, *image = NULL;
  struct imagefmt_store *s = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--include", "bootstrap", &v, err)) != 0)
        {
          if (r < 0 || add_includes (&include, v, err) < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--mirror", "bootstrap", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          mirror = v;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-t", "--tag", "bootstrap", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          tag = v;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "bootstrap", "unknown flag: %s", argv[i]);
      else if (image == NULL)
        image = argv[i];
      else
        return cmd_args_error (err, "bootstrap",
                               "\"nook bootstrap debian:SUITE\" takes one image; name it with -t");
    }
  if (image == NULL || !str_has_prefix (image, "debian:"))
    return cmd_args_error (err, "bootstrap", "\"nook bootstrap\" needs debian:SUITE");
  const char *suite = image + strlen ("debian:");
  if (!imagefmt_debian_suite_valid (suite))
    return nook_error_set (err, 0,
                           "invalid Debian suite '%s' (a codename such as bookworm, or stable, "
                           "testing, sid)",
                           suite);
  if (mirror && !mirror_valid (mirror))
    return nook_error_set (err, 0, "--mirror '%s': an http://, https:// or file:/ URL", mirror);
  if (tag)
    {
      cleanup_free char *full = imagefmt_ref_normalize_tag (tag, err);
      if (full == NULL)
        return -1;
    }
  if (!in_path ("mmdebstrap"))
    return nook_error_set (
        err, 0, "nook bootstrap debian:%s needs mmdebstrap (apt-get install mmdebstrap)", suite);
  struct imagefmt_debian_opts o
      = { .suite = suite, .include = include, .mirror = mirror, .ref = tag, .progress = progress };
  if (pick_mode (suite, &o.mode, err) < 0)
    return -1;
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  int r = imagefmt_bootstrap_debian (s, &o, &id, NULL, err);
  imagefmt_store_close (s);
  if (r < 0)
    return nook_error_wrap (err, "bootstrap debian:%s", suite);
  printf ("%s\n", id);
  return 0;
}
