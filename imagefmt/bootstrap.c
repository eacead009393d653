/* imagefmt/bootstrap.c: see bootstrap.h. */
#include "imagefmt/bootstrap.h"
#include "imagefmt/layer.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_BUSYBOX "/bin/busybox"
#define HINT "install busybox-static"
#define MAX_LIST (1u << 20)

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                             "user:x:1000:1000:user:/home/user:/bin/sh\n";
static const char group[] = "root:x:0:\n"
                            "tty:x:5:\n"
                            "nogroup:x:65534:\n"
                            "user:x:1000:\n";

int
imagefmt_bootstrap_check_static (const char *path, nook_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "'%s' not found (" HINT ")", path);
  Elf64_Ehdr eh;
  if (pread (fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh
      || memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
    return nook_error_set (err, ENOEXEC, "'%s' is not a 64-bit ELF executable (" HINT ")", path);
  if (eh.e_phentsize != sizeof (Elf64_Phdr) || eh.e_phnum > 4096)
    return nook_error_set (err, ENOEXEC, "'%s': unexpected ELF program headers", path);
  for (unsigned i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;
      off_t off = (off_t)eh.e_phoff + (off_t)i * (off_t)sizeof ph;
      if (pread (fd, &ph, sizeof ph, off) != (ssize_t)sizeof ph)
        return nook_error_set (err, ENOEXEC, "'%s': truncated ELF program headers", path);
      if (ph.p_type == PT_INTERP)
        return nook_error_set (err, ENOEXEC, "'%s' is dynamically linked (" HINT ")", path);
    }
  return 0;
}

/* Run `busybox --list-full` and return its lines. */
static int
list_applets (const char *busybox, char ***out, nook_error_t *err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe");
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return nook_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      dup2 (p[1], 1);
      execl (busybox, "busybox", "--list-full", (char *)NULL);
      _exit (127);
    }
  close (p[1]);
  struct strbuf b = { 0 };
  char buf[8192];
  ssize_t n;
  while ((n = read (p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && b.len < MAX_LIST)
      strbuf_appendn (&b, buf, (size_t)n);
  close (p[0]);
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  cleanup_free char *text = strbuf_steal (&b);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return nook_error_set (err, 0, "'%s --list-full' failed (" HINT ")", busybox);
  char *save = NULL;
  *out = xzalloc (sizeof (char *));
  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      while (*l == '/')
        l++;
      bool ok = *l != '\0' && strstr (l, "..") == NULL;
      for (char *c = l; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr ("/_.-+[", *c);
      if (ok && !strv_contains (*out, l))
        strv_push (out, l);
    }
  return 0;
}

struct plan
{
  struct imagefmt_tar_entry *e;
  size_t n, cap;
  char **names; /* every path, also owns the strings */
};

static struct imagefmt_tar_entry *
add (struct plan *p, const char *path, mode_t mode)
{
  if (strv_contains (p->names, path))
    return NULL;
  if (p->n == p->cap)
    {
      p->cap = p->cap ? 2 * p->cap : 512;
      p->e = xreallocarray (p->e, p->cap, sizeof *p->e);
    }
  strv_push (&p->names, path);
  struct imagefmt_tar_entry *e = &p->e[p->n++];
  *e = (struct imagefmt_tar_entry){ .path = p->names[strv_len (p->names) - 1], .mode = mode };
  return e;
}

static void
add_parents (struct plan *p, const char *path)
{
  cleanup_free char *d = xstrdup (path);
  for (char *s = strchr (d, '/'); s; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      add (p, d, S_IFDIR | 0755);
      *s = '/';
    }
}

static void
build_plan (struct plan *p, const char *busybox, char *const *applets)
{
  static const struct
  {
    const char *path;
    mode_t mode;
  } dirs[] = { { "bin", 0755 },     { "dev", 0755 },      { "etc", 0755 },  { "home", 0755 },
               { "mnt", 0755 },     { "proc", 0555 },     { "root", 0700 }, { "run", 0755 },
               { "sbin", 0755 },    { "sys", 0555 },      { "tmp", 01777 }, { "usr", 0755 },
               { "usr/bin", 0755 }, { "usr/sbin", 0755 }, { "var", 0755 },  { "var/tmp", 01777 } };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    add (p, dirs[i].path, S_IFDIR | dirs[i].mode);
  struct imagefmt_tar_entry *e = add (p, "home/user", S_IFDIR | 0755);
  e->uid = e->gid = 1000;
  e = add (p, "bin/busybox", S_IFREG | 0755);
  e->src = busybox;
  e = add (p, "etc/passwd", S_IFREG | 0644);
  e->data = passwd;
  e->size = sizeof passwd - 1;
  e = add (p, "etc/group", S_IFREG | 0644);
  e->data = group;
  e->size = sizeof group - 1;
  add (p, "etc/hostname", S_IFREG | 0644);
  add (p, "etc/hosts", S_IFREG | 0644);
  add (p, "etc/resolv.conf", S_IFREG | 0644);
  for (size_t i = 0; applets[i]; i++)
    {
      add_parents (p, applets[i]);
      e = add (p, applets[i], S_IFLNK | 0777);
      if (e)
        e->linkname = "/bin/busybox";
    }
}

int
imagefmt_bootstrap_busybox (struct imagefmt_store *s, const char *busybox, const char *ref,
                            int64_t created, char **id_out, nook_error_t *err)
{
  cleanup_strv char **applets = NULL;
  cleanup_close int mfd = -1;
  struct plan p = { 0 };
  json_t *cfg = NULL;
  int ret = -1;
  if (busybox == NULL)
    busybox = DEFAULT_BUSYBOX;
  if (imagefmt_bootstrap_check_static (busybox, err) < 0
      || list_applets (busybox, &applets, err) < 0)
    return -1;
  strv_push (&applets, "bin/sh");
  build_plan (&p, busybox, applets);
  mfd = memfd_create ("nook-bootstrap", MFD_CLOEXEC);
  if (mfd < 0)
    {
      nook_error_set (err, errno, "memfd_create");
      goto out;
    }
  if (imagefmt_layer_write_tar (mfd, p.e, p.n, created, true, err) < 0)
    goto out;
  if (lseek (mfd, 0, SEEK_SET) < 0)
    {
      nook_error_set (err, errno, "lseek");
      goto out;
    }
  cfg = imagefmt_store_default_config (created, NULL);
  json_object_set_new (json_array_get (json_object_get (cfg, "history"), 0), "created_by",
                       json_string ("nook bootstrap busybox"));
  json_object_set_new (
      cfg, "config",
      json_pack ("{s:[s], s:[s]}", "Env",
                 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd", "sh"));
  ret = imagefmt_store_import_tar (s, mfd, cfg, ref ? ref : "busybox:latest", id_out, err);
out:
  json_decref (cfg);
  free (p.e);
  strv_free (p.names);
  return ret;
}
