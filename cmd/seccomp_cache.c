/* cmd/seccomp_cache.c: see seccomp_cache.h. */
#include "cmd/seccomp_cache.h"
#include "imagefmt/digest.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PROFILE_MAX (4u << 20)

static int
compile (const char *text, size_t len, const char *name, uint64_t caps, unsigned flags, void **bpf,
         size_t *blen, nook_error_t *err)
{
  scmp_filter_ctx ctx = NULL;
  if (sandbox_seccomp_build_json_flags (text, len, name, caps, flags, &ctx, err) < 0)
    return -1;
  int r = sandbox_seccomp_export (ctx, bpf, blen, err);
  sandbox_seccomp_release (&ctx);
  return r;
}

/* ---- the name of the default profile's program ----
 *
 * The embedded default is part of the binary: the binary's GNU build ID (read
 * from its own notes in memory, no system call) names its text, so the cache
 * is found without a digest, and so without loading nettle (imagefmt/digest.c),
 * in every run with the default profile.  The rest of the key is spelled out. */

static int
find_build_id (struct dl_phdr_info *info, size_t size, void *data)
{
  char *hex = data;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_NOTE)
        continue;
      const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const ElfW (Nhdr) *)p;
          const char *name = p + sizeof *n;
          const unsigned char *desc = (const unsigned char *)name + ((n->n_namesz + 3) & ~3u);
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (name, "GNU", 4) == 0
              && n->n_descsz >= 8 && n->n_descsz <= 32)
            {
              for (unsigned j = 0; j < n->n_descsz; j++)
                sprintf (hex + 2 * j, "%02x", desc[j]);
              return 1;
            }
          p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
        }
    }
  return 1; /* the first object is the program itself */
}

/* s with every byte but [A-Za-z0-9._+] as '_' (a file name component). */
static void
append_safe (struct strbuf *b, const char *s)
{
  strbuf_appendc (b, '-');
  for (; *s; s++)
    {
      char c = *s;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == '+';
      strbuf_appendc (b, ok ? c : '_');
    }
}

/* "b-BUILDID-CAPS-..." for the embedded default, NULL without a build ID. */
static char *
default_name (const struct utsname *u, uint64_t caps, bool credemu)
{
  char id[65] = "";
  dl_iterate_phdr (find_build_id, id);
  if (id[0] == '\0')
    return NULL;
  struct strbuf b = { 0 };
  strbuf_appendf (&b, "b-%s-%016" PRIx64 "-%s%s", id, caps,
                  sandbox_seccomp_x32_usable () ? "x32" : "no-x32", credemu ? "-credemu" : "");
  append_safe (&b, sandbox_seccomp_lib_version ());
  append_safe (&b, u->machine);
  append_safe (&b, u->release);
  strbuf_append (&b, ".bpf");
  return strbuf_steal (&b);
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
   * NETLINK_AUDIT rule; 5: the file's header, sandbox_seccomp_file_encode; 6: programs
   * made smaller, sandbox/seccomp_compact.h.) */
  struct utsname u;
  uname (&u);
  cleanup_free char *name = profile ? NULL : default_name (&u, spec->caps, spec->credemu);
  if (name == NULL)
    {
      struct imagefmt_digester *d = imagefmt_digester_new ();
      cleanup_free char *head = xasprintf (
          "nook-seccomp-7\n%s\n%s\n%s\n%016" PRIx64 "\n%s%s", sandbox_seccomp_lib_version (),
          u.release, u.machine, spec->caps, sandbox_seccomp_x32_usable () ? "" : "no-x32\n",
          spec->credemu ? "credemu\n" : "");
      imagefmt_digester_update (d, head, strlen (head));
      imagefmt_digester_update (d, text, len);
      cleanup_free char *key = imagefmt_digester_finish (d);
      name = xasprintf ("%s.bpf", key + 7);
    }
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", store_root);
  if (cache_path)
    *cache_path = xasprintf ("%s/%s", dir, name);

  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      void *bpf = NULL;
      size_t blen = 0;
      cleanup_error nook_error_t e = NULL;
      /* (a damaged, misfiled or foreign entry is compiled again and replaced) */
      if (sandbox_seccomp_file_read (dfd, name, name, &bpf, &blen, &e) == 0)
        {
          spec->seccomp_bpf = bpf;
          spec->seccomp_bpf_len = blen;
          return 0;
        }
      if (e->code != ENOENT)
        log_debug ("seccomp cache: %s: compiling again", e->msg);
    }

  void *bpf = NULL;
  size_t blen = 0;
  if (compile (text, len, profile ? profile : "the default profile", spec->caps,
               spec->credemu ? SANDBOX_SECCOMP_CREDEMU : 0, &bpf, &blen, err)
      < 0)
    return -1;
  spec->seccomp_bpf = bpf;
  spec->seccomp_bpf_len = blen;

  /* Caching is an optimisation: failing to write the cache is not an error. */
  cleanup_error nook_error_t e = NULL;
  if (dfd < 0 && fs_mkdir_p (dir, 0700, &e) == 0)
    dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t flen = 0;
  cleanup_free void *file = sandbox_seccomp_file_encode (bpf, blen, name, &flen);
  if (dfd < 0 || fs_write_file_at (dfd, name, file, flen, 0600, &e) < 0)
    log_debug ("seccomp cache not written: %s", e ? e->msg : strerror (errno));
  return 0;
}
