/* sandbox/seccomp_bpf.c: see seccomp_bpf.h. */
#include "sandbox/seccomp_bpf.h"
#include "sandbox/seccomp_compact.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
  /* the same filter in fewer instructions, when it can be (seccomp_compact.h) */
  size_t n = 0;
  struct sock_filter *small = sandbox_seccomp_compact (
      (const struct sock_filter *)(void *)buf, (size_t)size / sizeof (struct sock_filter), &n);
  if (small)
    {
      free (buf);
      buf = (char *)small;
      size = (off_t)(n * sizeof (struct sock_filter));
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

/* ---- the program as kept on disk ---- */

#define FILE_MAGIC "nookbpf1"
#define FILE_HEAD 24 /* magic, checksum, program length, key length */
#define FILE_KEY_MAX 255

static uint64_t
fnv1a (const unsigned char *p, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

void *
sandbox_seccomp_file_encode (const void *bpf, size_t len, const char *key, size_t *out_len)
{
  size_t klen = strnlen (key, FILE_KEY_MAX);
  size_t n = FILE_HEAD + klen + len;
  unsigned char *buf = xmalloc (n);
  uint32_t plen32 = (uint32_t)len, klen32 = (uint32_t)klen;
  memcpy (buf, FILE_MAGIC, 8);
  memcpy (buf + 16, &plen32, 4);
  memcpy (buf + 20, &klen32, 4);
  memcpy (buf + FILE_HEAD, key, klen);
  memcpy (buf + FILE_HEAD + klen, bpf, len);
  uint64_t sum = fnv1a (buf + 16, n - 16);
  memcpy (buf + 8, &sum, 8);
  *out_len = n;
  return buf;
}

/* Ours alone: owned by the effective uid, writable by nobody else. */
static bool
ours (const struct stat *st)
{
  return st->st_uid == geteuid () && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int
sandbox_seccomp_file_read (int dirfd, const char *name, const char *key, void **bpf, size_t *len,
                           nook_error_t *err)
{
  struct stat st;
  if (fstat (dirfd, &st) < 0)
    return nook_error_set (err, errno, "stat the directory of '%s'", name);
  if (!S_ISDIR (st.st_mode) || !ours (&st))
    return nook_error_set (err, EPERM, "the directory of '%s' is not ours alone", name);
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", name);
  if (fstat (fd, &st) < 0)
    return nook_error_set (err, errno, "stat '%s'", name);
  size_t max = FILE_HEAD + FILE_KEY_MAX + BPF_MAXINSNS * sizeof (struct sock_filter);
  if (!S_ISREG (st.st_mode) || !ours (&st))
    return nook_error_set (err, EPERM, "'%s' is not a regular file of ours alone", name);
  if (st.st_size < FILE_HEAD || (size_t)st.st_size > max)
    return nook_error_set (err, EINVAL, "'%s' has %lld bytes", name, (long long)st.st_size);
  size_t n = (size_t)st.st_size;
  cleanup_free unsigned char *buf = xmalloc (n);
  size_t got = 0;
  while (got < n)
    {
      ssize_t r = pread (fd, buf + got, n - got, (off_t)got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return nook_error_set (err, r < 0 ? errno : EINVAL, "read '%s'", name);
      got += (size_t)r;
    }
  uint32_t plen, klen;
  uint64_t sum;
  memcpy (&sum, buf + 8, 8);
  memcpy (&plen, buf + 16, 4);
  memcpy (&klen, buf + 20, 4);
  if (memcmp (buf, FILE_MAGIC, 8) != 0 || klen > FILE_KEY_MAX
      || (size_t)FILE_HEAD + klen + plen != n || sum != fnv1a (buf + 16, n - 16))
    return nook_error_set (err, EINVAL, "'%s' is damaged (its header or checksum)", name);
  if (key && (strlen (key) != klen || memcmp (buf + FILE_HEAD, key, klen) != 0))
    return nook_error_set (err, EINVAL, "'%s' holds another program than its name says", name);
  const unsigned char *prog = buf + FILE_HEAD + klen;
  if (!sandbox_seccomp_bpf_valid (prog, plen))
    return nook_error_set (err, EINVAL, "'%s' holds no valid program", name);
  void *out = xmalloc (plen);
  memcpy (out, prog, plen);
  *bpf = out;
  *len = plen;
  return 0;
}
