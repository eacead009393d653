/* sandbox/seccomp_bpf.c: see seccomp_bpf.h. */
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int
sandbox_seccomp_export (scmp_filter_ctx ctx, void **bpf, size_t *len, nook_error_t *err)
{
  cleanup_close int fd = memfd_create ("nook-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "memfd_create");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return nook_error_set (err, -r, "compile the seccomp filter");
  off_t size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size > (off_t)(BPF_MAXINSNS * sizeof (struct sock_filter)))
    return nook_error_set (err, EINVAL, "the compiled seccomp filter has %lld bytes",
                           (long long)size);
  char *buf = xmalloc ((size_t)size);
  if (pread (fd, buf, (size_t)size, 0) != size)
    {
      free (buf);
      return nook_error_set (err, errno, "read the compiled seccomp filter");
    }
  if (!sandbox_seccomp_bpf_valid (buf, (size_t)size))
    {
      free (buf);
      return nook_error_set (err, EINVAL, "the compiled seccomp filter is not valid BPF");
    }
  *bpf = buf;
  *len = (size_t)size;
  return 0;
}

bool
sandbox_seccomp_bpf_valid (const void *bpf, size_t len)
{
  if (bpf == NULL || len == 0 || len % sizeof (struct sock_filter) != 0
      || len / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return false;
  const struct sock_filter *last = (const struct sock_filter *)bpf + len / sizeof *last - 1;
  return BPF_CLASS (last->code) == BPF_RET;
}

int
sandbox_seccomp_load_bpf (const void *bpf, size_t len, nook_error_t *err)
{
  if (!sandbox_seccomp_bpf_valid (bpf, len))
    return nook_error_set (err, EINVAL, "invalid seccomp program");
  struct sock_fprog prog = { .len = (unsigned short)(len / sizeof (struct sock_filter)),
                             .filter = (struct sock_filter *)bpf };
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    return nook_error_set (err, errno, "load the seccomp filter");
  return 0;
}

const char *
sandbox_seccomp_lib_version (void)
{
  static char buf[48];
  const struct scmp_version *v = seccomp_version ();
  snprintf (buf, sizeof buf, "%u.%u.%u", v->major, v->minor, v->micro);
  return buf;
}
