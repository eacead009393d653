/* cmd/seccomp_cache.c: see seccomp_cache.h. */
#include "cmd/seccomp_cache.h"
#include "imagefmt/digest.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PROFILE_MAX (4u << 20)

static int
compile (const char *text, size_t len, const char *name, uint64_t caps, void **bpf, size_t *blen,
         nook_error_t *err)
{
  scmp_filter_ctx ctx = NULL;
  if (sandbox_seccomp_build_json (text, len, name, caps, &ctx, err) < 0)
    return -1;
  int r = sandbox_seccomp_export (ctx, bpf, blen, err);
  sandbox_seccomp_release (&ctx);
  return r;
}

int
seccomp_cache_program (const char *store_root, const char *profile, struct nook_spec *spec,
                       nook_error_t *err)
{
  return seccomp_cache_program_path (store_root, profile, spec, NULL, err);
}

int
seccomp_cache_program_path (const char *store_root, const char *profile, struct nook_spec *spec,
                            char **cache_path, nook_error_t *err)
{
  if (spec->seccomp_unconfined)
    return 0;
  cleanup_free char *file_text = NULL;
  size_t len = 0;
  const char *text;
  if (profile)
    {
      if (fs_read_file_at (AT_FDCWD, profile, PROFILE_MAX, &file_text, &len, err) < 0)
        return nook_error_wrap (err, "seccomp profile");
      text = file_text;
    }
  else
    text = sandbox_seccomp_default_json (&len);

  /* Everything the program depends on goes into its name: the profile's text (so a
   * program compiled from an older embedded default is never reused), libseccomp,
   * the kernel, the arch, the capabilities.  (3: the default gained the
   * NETLINK_AUDIT rule.) */
  struct utsname u;
  uname (&u);
  struct imagefmt_digester *d = imagefmt_digester_new ();
  cleanup_free char *head
      = xasprintf ("nook-seccomp-3\n%s\n%s\n%s\n%016" PRIx64 "\n", sandbox_seccomp_lib_version (),
                   u.release, u.machine, spec->caps);
  imagefmt_digester_update (d, head, strlen (head));
  imagefmt_digester_update (d, text, len);
  cleanup_free char *key = imagefmt_digester_finish (d);
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", store_root);
  cleanup_free char *name = xasprintf ("%s.bpf", key + 7);
  if (cache_path)
    *cache_path = xasprintf ("%s/%s", dir, name);

  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      char *bpf = NULL;
      size_t blen = 0;
      cleanup_error nook_error_t e = NULL;
      if (fs_read_file_at (dfd, name, 65536 * 8, &bpf, &blen, &e) == 0
          && sandbox_seccomp_bpf_valid (bpf, blen))
        {
          spec->seccomp_bpf = bpf;
          spec->seccomp_bpf_len = blen;
          return 0;
        }
      free (bpf);
    }

  void *bpf = NULL;
  size_t blen = 0;
  if (compile (text, len, profile ? profile : "the default profile", spec->caps, &bpf, &blen, err)
      < 0)
    return -1;
  spec->seccomp_bpf = bpf;
  spec->seccomp_bpf_len = blen;

  /* Caching is an optimisation: failing to write the cache is not an error. */
  cleanup_error nook_error_t e = NULL;
  if (dfd < 0 && fs_mkdir_p (dir, 0700, &e) == 0)
    dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fs_write_file_at (dfd, name, bpf, blen, 0600, &e) < 0)
    log_debug ("seccomp cache not written: %s", e ? e->msg : strerror (errno));
  return 0;
}
