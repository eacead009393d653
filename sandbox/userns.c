/* sandbox/userns.c: see userns.h. */
#include "sandbox/userns.h"
#include "sandbox/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int
sandbox_subid_find (const char *text, const char *name, uid_t id, struct subid_range *out,
                    const char *file, nook_error_t *err)
{
  char idbuf[16];
  snprintf (idbuf, sizeof idbuf, "%u", (unsigned)id);
  int lineno = 0;
  const char *cursor = text;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      lineno++;
      if (line[0] == '\0' || line[0] == '#')
        continue;
      char *c1 = strchr (line, ':');
      char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL)
        return nook_error_set (err, EINVAL, "%s:%d: malformed line", file, lineno);
      *c1 = *c2 = '\0';
      if (strcmp (line, name ? name : "") != 0 && strcmp (line, idbuf) != 0)
        continue;
      uint64_t start, count;
      cleanup_error nook_error_t e = NULL;
      if (parse_uint (c1 + 1, UINT32_MAX, &start, "start", &e) < 0
          || parse_uint (c2 + 1, UINT32_MAX, &count, "count", &e) < 0)
        return nook_error_set (err, EINVAL, "%s:%d: %s", file, lineno, e->msg);
      if (count == 0)
        continue;
      out->start = (uint32_t)start;
      out->count = (uint32_t)count;
      return 1;
    }
  return 0;
}

void
sandbox_idmap_plan (const struct idmap_plan_input *in, uid_t want_uid, gid_t want_gid,
                    struct nook_idmapping *out, const char **reason)
{
  memset (out, 0, sizeof *out);
  const char *why = NULL;
  if (in->host_uid == 0)
    {
      /* Invoked by root: isolate all the same.  Host root is never mapped;
       * the container's ids come from root's subordinate range, or a fixed
       * high range nobody uses. */
      struct subid_range u = in->have_uid_range
                                 ? in->uid_range
                                 : (struct subid_range){ SANDBOX_ROOT_RANGE_START, 65536 };
      struct subid_range g = in->have_gid_range
                                 ? in->gid_range
                                 : (struct subid_range){ SANDBOX_ROOT_RANGE_START, 65536 };
      out->uid[0] = (struct nook_idmap){ 0, u.start, u.count > 65537 ? 65537 : u.count };
      out->gid[0] = (struct nook_idmap){ 0, g.start, g.count > 65537 ? 65537 : g.count };
      out->n_uid = out->n_gid = 1;
      if (reason)
        *reason = NULL;
      return;
    }
  if (!in->have_uid_range || !in->have_gid_range)
    why = "no subordinate id range for this user in /etc/subuid and /etc/subgid";
  else if (!in->have_helpers)
    why = "newuidmap/newgidmap not found (install the uidmap package)";
  if (why == NULL)
    {
      uint32_t ucount = in->uid_range.count > 65536 ? 65536 : in->uid_range.count;
      uint32_t gcount = in->gid_range.count > 65536 ? 65536 : in->gid_range.count;
      out->uid[0] = (struct nook_idmap){ 0, in->host_uid, 1 };
      out->uid[1] = (struct nook_idmap){ 1, in->uid_range.start, ucount };
      out->gid[0] = (struct nook_idmap){ 0, in->host_gid, 1 };
      out->gid[1] = (struct nook_idmap){ 1, in->gid_range.start, gcount };
      out->n_uid = out->n_gid = 2;
      out->use_helpers = in->host_uid != 0;
    }
  else
    {
      out->uid[0] = (struct nook_idmap){ want_uid, in->host_uid, 1 };
      out->gid[0] = (struct nook_idmap){ want_gid, in->host_gid, 1 };
      out->n_uid = out->n_gid = 1;
      out->single = true;
    }
  if (reason)
    *reason = why;
}

/* Where newuidmap and newgidmap are looked for first (start_helper runs them
 * from there, else through PATH): the usual places answer with one access()
 * instead of a search of the caller's PATH (a dozen directories) per run. */
static const char *const helper_dirs[]
    = { "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin" };

static char *
find_helper (const char *prog)
{
  for (size_t i = 0; i < ARRAY_SIZE (helper_dirs); i++)
    {
      char *p = xasprintf ("%s/%s", helper_dirs[i], prog);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static bool
have_helper (const char *prog)
{
  cleanup_free char *found = find_helper (prog);
  if (found)
    return true;
  const char *path = getenv ("PATH");
  cleanup_free char *copy = xstrdup (path && *path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *p = xasprintf ("%s/%s", d, prog);
      if (access (p, X_OK) == 0)
        return true;
    }
  return false;
}

static int
probe_file (const char *file, const char *name, uid_t id, bool *have, struct subid_range *r,
            nook_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  *have = false;
  if (fs_read_file_at (AT_FDCWD, file, 1 << 24, &text, NULL, &e) < 0)
    return 0; /* no file: no range */
  int r2 = sandbox_subid_find (text, name, id, r, file, err);
  if (r2 < 0)
    return -1;
  *have = r2 == 1;
  return 0;
}

/* The user's name, for /etc/subuid entries by name: from /etc/passwd when it
 * has the uid (what /etc/subuid is kept beside), else through NSS (LDAP and
 * the like).  Going to NSS first cost ~40 us a run here: nsswitch.conf, two
 * nscd connection attempts, then the same file. */
static char *
user_name (uid_t uid)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  char want[16];
  snprintf (want, sizeof want, "%u", (unsigned)uid);
  if (fs_read_file_at (AT_FDCWD, "/etc/passwd", 1 << 24, &text, NULL, &e) == 0)
    for (char *line = text, *end; *line; line = end)
      {
        end = line + strcspn (line, "\n");
        if (*end)
          *end++ = '\0';
        char *c1 = strchr (line, ':');
        char *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
        char *c3 = c2 ? strchr (c2 + 1, ':') : NULL;
        if (c3 == NULL || line[0] == '+' || line[0] == '-')
          continue; /* (compat-mode NIS lines are NSS's to read) */
        *c1 = *c3 = '\0';
        if (strcmp (c2 + 1, want) == 0)
          return xstrdup (line);
      }
  struct passwd *pw = getpwuid (uid);
  return pw ? xstrdup (pw->pw_name) : NULL;
}

int
sandbox_idmap_probe (struct idmap_plan_input *in, nook_error_t *err)
{
  memset (in, 0, sizeof *in);
  in->host_uid = getuid ();
  in->host_gid = getgid ();
  cleanup_free char *name = user_name (in->host_uid);
  if (probe_file ("/etc/subuid", name, in->host_uid, &in->have_uid_range, &in->uid_range, err) < 0
      || probe_file ("/etc/subgid", name, in->host_uid, &in->have_gid_range, &in->gid_range, err)
             < 0)
    return -1;
  /* root writes its maps itself; everyone else needs the setuid helpers. */
  in->have_helpers = in->host_uid == 0
                     || (in->have_uid_range && in->have_gid_range && have_helper ("newuidmap")
                         && have_helper ("newgidmap"));
  return 0;
}

bool
sandbox_idmap_has (const struct nook_idmap *m, size_t n, uint32_t id)
{
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].inside && id - m[i].inside < m[i].count)
      return true;
  return false;
}

/* Start newuidmap or newgidmap for pid; returns the helper's pid. */
static pid_t
start_helper (const char *prog, pid_t pid, const struct nook_idmap *m, size_t n, nook_error_t *err)
{
  char *argv[2 + 3 * 2 + 1];
  char buf[7][16];
  size_t a = 0, b = 0;
  argv[a++] = (char *)prog;
  snprintf (buf[b], 16, "%d", (int)pid);
  argv[a++] = buf[b++];
  for (size_t i = 0; i < n && i < 2; i++)
    {
      snprintf (buf[b], 16, "%u", m[i].inside);
      argv[a++] = buf[b++];
      snprintf (buf[b], 16, "%u", m[i].outside);
      argv[a++] = buf[b++];
      snprintf (buf[b], 16, "%u", m[i].count);
      argv[a++] = buf[b++];
    }
  argv[a] = NULL;
  cleanup_free char *path = find_helper (prog);
  pid_t c = fork ();
  if (c < 0)
    {
      nook_error_set (err, errno, "fork %s", prog);
      return -1;
    }
  if (c == 0)
    {
      if (path)
        execv (path, argv);
      else
        execvp (prog, argv);
      _exit (127);
    }
  return c;
}

static int
finish_helper (const char *prog, pid_t c, nook_error_t *err)
{
  int st;
  while (waitpid (c, &st, 0) < 0)
    if (errno != EINTR)
      return nook_error_set (err, errno, "waitpid %s", prog);
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    return nook_error_set (err, 0, "%s failed (exit status %d): check /etc/subuid and /etc/subgid",
                           prog, WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st));
  return 0;
}

static int
write_map_file (pid_t pid, const char *file, const char *text, nook_error_t *err)
{
  cleanup_free char *path
      = pid > 0 ? xasprintf ("/proc/%d/%s", (int)pid, file) : xasprintf ("/proc/self/%s", file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open %s", path);
  if (fs_write_all (fd, text, strlen (text)) < 0)
    return nook_error_set (err, errno, "write '%s' to %s", text, path);
  return 0;
}

char *
sandbox_idmap_text (const struct nook_idmap *m, size_t n)
{
  struct strbuf b = { 0 };
  for (size_t i = 0; i < n; i++)
    strbuf_appendf (&b, "%u %u %u\n", m[i].inside, m[i].outside, m[i].count);
  return strbuf_steal (&b);
}

int
sandbox_idmap_write (pid_t pid, const struct nook_idmapping *ids, nook_error_t *err)
{
  if (ids->use_helpers)
    {
      /* Both at once: each is a setuid program's start-up. */
      pid_t u = start_helper ("newuidmap", pid, ids->uid, ids->n_uid, err);
      if (u < 0)
        return -1;
      pid_t g = start_helper ("newgidmap", pid, ids->gid, ids->n_gid, err);
      int ru = finish_helper ("newuidmap", u, err);
      if (g < 0)
        return -1;
      int rg = finish_helper ("newgidmap", g, err);
      return ru < 0 || rg < 0 ? -1 : 0;
    }
  cleanup_free char *u = sandbox_idmap_text (ids->uid, ids->n_uid);
  cleanup_free char *g = sandbox_idmap_text (ids->gid, ids->n_gid);
  if (ids->single && write_map_file (pid, "setgroups", "deny", err) < 0)
    return -1;
  if (write_map_file (pid, "uid_map", u, err) < 0 || write_map_file (pid, "gid_map", g, err) < 0)
    return -1;
  return 0;
}

/* errors across a pipe: "<code> <exit>\n<msg>" */
void
errpipe_send (int fd, const struct nook_error *e)
{
  char head[32];
  int n = snprintf (head, sizeof head, "%d %d\n", e->code, e->exit);
  (void)!fs_write_all (fd, head, (size_t)n);
  (void)!fs_write_all (fd, e->msg, strlen (e->msg));
}

int
errpipe_recv (int fd, nook_error_t *err)
{
  struct strbuf b = { 0 };
  char chunk[1024];
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (b.len < 65536)
        strbuf_appendn (&b, chunk, (size_t)n);
    }
  if (b.len == 0)
    {
      strbuf_free (&b);
      return 0;
    }
  cleanup_free char *text = strbuf_steal (&b);
  int code = 0, exit_code = 0;
  char *nl = strchr (text, '\n');
  if (nl == NULL || sscanf (text, "%d %d", &code, &exit_code) != 2)
    nook_error_set (err, 0, "%s", text);
  else
    nook_error_set_exit (err, exit_code, code, "%s", nl + 1);
  return 1;
}

int
sync_send (int fd)
{
  char c = 'x';
  ssize_t n;
  do
    n = write (fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

int
sync_wait (int fd)
{
  char c;
  ssize_t n;
  do
    n = read (fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

int
fd_send (int sock, int fd)
{
  char data = 'f';
  struct iovec iov = { .iov_base = &data, .iov_len = 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int
fd_recv (int sock)
{
  char data;
  struct iovec iov = { .iov_base = &data, .iov_len = 1 };
  /* (room for more than one: a peer that sends several has the others closed, not
   * left open here) */
  union
  {
    char buf[CMSG_SPACE (8 * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t n;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  int fd = -1;
  for (struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR (&msg) : NULL; c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; (i + 1) * sizeof (int) <= c->cmsg_len - CMSG_LEN (0); i++)
        {
          int f;
          memcpy (&f, CMSG_DATA (c) + i * sizeof (int), sizeof f);
          if (fd < 0)
            fd = f;
          else
            close (f);
        }
  if (fd >= 0 && (msg.msg_flags & MSG_CTRUNC))
    {
      close (fd);
      fd = -1;
    }
  return fd;
}

int
sandbox_userns_call (const struct nook_idmapping *ids, int (*fn) (void *arg, nook_error_t *err),
                     void *arg, nook_error_t *err)
{
  int syncp[2], errp[2];
  if (pipe2 (syncp, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe2");
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (syncp[0]);
      close (syncp[1]);
      return nook_error_set (err, errno, "pipe2");
    }
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (syncp[0]), close (syncp[1]), close (errp[0]), close (errp[1]);
      return nook_error_set (err, e, "fork");
    }
  if (pid == 0)
    {
      nook_error_t cerr = NULL;
      close (syncp[1]);
      close (errp[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (unshare (CLONE_NEWUSER) < 0)
        {
          nook_error_set (&cerr, errno, "unshare(CLONE_NEWUSER)");
          (void)!write (errp[1], "e", 1);
        }
      else if (sync_send (errp[1]) < 0 || sync_wait (syncp[0]) < 0)
        nook_error_set (&cerr, EPIPE, "user namespace setup was interrupted");
      else
        {
          uid_t u = ids->single ? ids->uid[0].inside : 0;
          gid_t g = ids->single ? ids->gid[0].inside : 0;
          if (setresgid (g, g, g) < 0 || setresuid (u, u, u) < 0)
            nook_error_set (&cerr, errno, "become %u:%u in the user namespace", u, g);
          else
            fn (arg, &cerr);
        }
      if (cerr)
        {
          errpipe_send (errp[1], cerr);
          _exit (1);
        }
      _exit (0);
    }
  close (syncp[0]);
  close (errp[1]);
  int rc = 0;
  /* Invoked by root, the store's directories are host root's: map host root
   * too (as the id after the range), in this helper namespace only, so that
   * extraction and removal may write there.  Containers never get it. */
  struct nook_idmapping helper = *ids;
  if (getuid () == 0 && !ids->single && ids->n_uid < 2 && ids->n_gid < 2)
    {
      helper.uid[1] = (struct nook_idmap){ ids->uid[0].count, 0, 1 };
      helper.gid[1] = (struct nook_idmap){ ids->gid[0].count, 0, 1 };
      helper.n_uid = helper.n_gid = 2;
    }
  /* The child says it unshared (one byte), then we write its maps. */
  char c;
  ssize_t n;
  do
    n = read (errp[0], &c, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1 && c == 'x')
    {
      if (sandbox_idmap_write (pid, &helper, err) < 0)
        rc = -1;
      else
        sync_send (syncp[1]);
    }
  close (syncp[1]);
  if (rc == 0 && errpipe_recv (errp[0], err) != 0)
    rc = -1;
  close (errp[0]);
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (rc == 0 && (!WIFEXITED (st) || WEXITSTATUS (st) != 0))
    rc = nook_error_set (err, 0, "user namespace helper failed");
  return rc;
}
