/* cmd/logs.c: `nook logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER`
 * over the json-file log its supervisor writes (cmd/logfile.h): rotated files
 * first, stdout and stderr kept apart; -f follows while the supervisor lives. */
#include "cmd/cli.h"
#include "cmd/lifecycle.h"
#include "cmd/logfile.h"
#include "cmd/logread.h"
#include "cmd/records.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

struct logs_opts
{
  bool follow, timestamps;
  int64_t tail;         /* -1: all */
  int64_t since, until; /* ns, 0: none */
  const char *container;
};

/* An entry as `logs` prints it: with -t its time first (Docker's RFC 3339 with ns). */
static void
emit (const struct logs_opts *o, const struct log_entry *e)
{
  int fd = e->stream == 2 ? 2 : 1;
  if (o->timestamps)
    {
      char tb[40];
      log_format_time (e->ns, tb);
      struct strbuf b = { 0 };
      strbuf_appendf (&b, "%s ", tb);
      strbuf_appendn (&b, e->text, e->len);
      fs_write_all (fd, b.buf, b.len);
      strbuf_free (&b);
    }
  else
    fs_write_all (fd, e->text, e->len);
}

/* Every entry there is now. */
static void
drain (const struct logs_opts *o, struct logread *r)
{
  struct log_entry e;
  while (logread_next (r, &e) == 1)
    {
      emit (o, &e);
      free (e.text);
    }
}

static void
logs_usage (void)
{
  printf ("Usage:  nook logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n\nOptions:\n"
          "  -f, --follow         Follow log output\n"
          "      --since string   Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n"
          "  -n, --tail string    Number of lines to show from the end of the logs (default "
          "\"all\")\n"
          "  -t, --timestamps     Show timestamps\n"
          "      --until string   Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or "
          "relative (e.g. 42m for 42 minutes)\n");
}

static int
logs_parse (int argc, char **argv, struct logs_opts *o, nook_error_t *err)
{
  memset (o, 0, sizeof *o);
  o->tail = -1;
  int64_t now = realtime_ns ();
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      int r;
      if (a[0] != '-' || a[1] == '\0')
        {
          if (o->container)
            return cmd_args_error (err, "logs", "\"nook logs\" requires exactly 1 argument.");
          o->container = a;
        }
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          logs_usage ();
          return 1;
        }
      else if (strcmp (a, "-f") == 0 || strcmp (a, "--follow") == 0)
        o->follow = true;
      else if (strcmp (a, "-t") == 0 || strcmp (a, "--timestamps") == 0)
        o->timestamps = true;
      else if (strcmp (a, "-ft") == 0 || strcmp (a, "-tf") == 0)
        o->follow = o->timestamps = true;
      else if (strcmp (a, "--details") == 0)
        ;
      else if ((r = logread_opt (argc, argv, &i, "logs", now, &o->tail, &o->since, &o->until, err))
               != 0)
        {
          if (r < 0)
            return -1;
        }
      else
        return cmd_flag_error (err, "logs", "unknown flag: %s", a);
    }
  if (o->container == NULL)
    return cmd_args_error (err, "logs", "\"nook logs\" requires exactly 1 argument.");
  return 0;
}

/* Follow the log while the supervisor lives (a rotation is the reader's), then what it
 * wrote last. */
static void
follow (const struct logs_opts *o, int dirfd, struct logread *r, int sup)
{
  cleanup_close int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  char path[64];
  fs_fd_path (dirfd, path);
  if (in >= 0)
    inotify_add_watch (in, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  for (;;)
    {
      drain (o, r);
      struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sup, .events = POLLIN } };
      int n = poll (p, 2, in >= 0 ? 1000 : 200);
      if (n > 0 && (p[0].revents & POLLIN))
        {
          char ev[4096];
          while (read (in, ev, sizeof ev) > 0)
            ;
        }
      if (p[1].revents & POLLIN)
        break;
    }
  drain (o, r);
}

int
cmd_logs (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct logs_opts o;
  int r = logs_parse (argc, argv, &o, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  cleanup_free char *root = lifecycle_root (ctx, err);
  cleanup_free char *id = root ? container_lookup (root, o.container, err) : NULL;
  if (id == NULL)
    return -1;
  cleanup_free char *dpath = xasprintf ("%s/containers/%s", root, id);
  cleanup_close int dirfd = open (dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return nook_error_set (err, 0, "No such container: %s", o.container);
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *cfg = container_read_json (cdir, id, "config.json");
  const char *type = json_string_value (
      json_object_get (json_object_get (json_object_get (cfg, "HostConfig"), "LogConfig"), "Type"));
  bool none = type && strcmp (type, "none") == 0;
  json_decref (cfg);
  if (none)
    return nook_error_set (err, 0, "configured logging driver does not support reading");
  /* the supervisor, for -f: pinned before the files are read */
  struct container_state st;
  container_state_read (cdir, id, &st);
  cleanup_close int sup = -1;
  if (o.follow && container_process_alive (st.sup_pid, st.sup_start))
    sup = (int)syscall (SYS_pidfd_open, st.sup_pid, 0);
  container_state_clear (&st);

  /* rotated files first; -f goes on while the log is there and the supervisor lives */
  cleanup_free char *name = logw_file_name (id);
  bool written = faccessat (dirfd, name, F_OK, 0) == 0;
  struct logread *lr = logread_open (dirfd, id, o.since, o.until, o.tail);
  drain (&o, lr);
  if (o.follow && sup >= 0 && written)
    follow (&o, dirfd, lr, sup);
  logread_close (lr);
  return 0;
}
