/* cmd/records_spec.c: a container's spec in its config.json ("Spec", nook's
 * own shape, enough to start the container again or exec into it), its
 * seccomp program beside it (seccomp.bpf), and its state.json (Docker's
 * State fields).  See records.h. */
#include "cmd/records.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv_json.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char *
jdup (json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? xstrdup (s) : NULL;
}

json_t *
container_spec_json (const struct nook_spec *s)
{
  json_t *groups = json_array ();
  for (size_t i = 0; i < s->n_groups; i++)
    json_array_append_new (groups, json_integer (s->groups[i]));
  json_t *mounts = json_array ();
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      const struct nook_mount *m = &s->mounts[i];
      json_array_append_new (mounts, json_pack ("{s:s, s:s?, s:s, s:b, s:s?}", "Kind",
                                                m->kind == MOUNT_TMPFS  ? "tmpfs"
                                                : m->kind == MOUNT_COPY ? "copy"
                                                                        : "bind",
                                                "Source", m->source, "Target", m->target,
                                                "ReadOnly", m->readonly, "Options", m->options));
    }
  json_t *rl = json_array ();
  for (size_t i = 0; i < s->n_rlimits; i++)
    json_array_append_new (rl, json_pack ("{s:i, s:I, s:I}", "Resource", s->rlimits[i].resource,
                                          "Soft", (json_int_t)s->rlimits[i].soft, "Hard",
                                          (json_int_t)s->rlimits[i].hard));
  return json_pack ("{s:o, s:o, s:s?, s:I, s:I, s:o, s:s?, s:b, s:b, s:b, s:b, s:i, s:I, s:b, "
                    "s:o, s:o, s:s?, s:s?, s:s?, s:s?, s:o}",
                    "Argv", strv_to_json (s->argv), "Env", strv_to_json (s->env), "Cwd", s->cwd,
                    "Uid", (json_int_t)s->uid, "Gid", (json_int_t)s->gid, "Groups", groups,
                    "Hostname", s->hostname, "Tty", s->tty, "Interactive", s->interactive,
                    "ReadOnly", s->readonly_rootfs, "Unmasked", s->unmasked, "Network",
                    (int)s->network, "Caps", (json_int_t)s->caps, "SeccompUnconfined",
                    s->seccomp_unconfined, "Mounts", mounts, "Rlimits", rl, "EtcHosts",
                    s->etc_hosts, "EtcResolv", s->etc_resolv, "EtcHostname", s->etc_hostname,
                    "Domainname", s->domainname, "Sysctls", strv_to_json (s->sysctls));
}

int
container_spec_from_json (json_t *cfg, struct nook_spec *s, nook_error_t *err)
{
  json_t *j = json_object_get (cfg, "Spec");
  if (!json_is_object (j))
    return nook_error_set (err, 0, "the container's record has no Spec (made by an older nook)");
  memset (s, 0, sizeof *s);
  s->argv = strv_from_json (json_object_get (j, "Argv"));
  s->env = strv_from_json (json_object_get (j, "Env"));
  s->cwd = jdup (j, "Cwd");
  s->uid = (uid_t)json_integer_value (json_object_get (j, "Uid"));
  s->gid = (gid_t)json_integer_value (json_object_get (j, "Gid"));
  json_t *g = json_object_get (j, "Groups"), *x;
  size_t i;
  s->groups = xzalloc (sizeof *s->groups * (json_array_size (g) + 1));
  json_array_foreach (g, i, x) s->groups[s->n_groups++] = (gid_t)json_integer_value (x);
  s->hostname = jdup (j, "Hostname");
  s->domainname = jdup (j, "Domainname");
  s->sysctls = strv_from_json (json_object_get (j, "Sysctls"));
  s->tty = json_is_true (json_object_get (j, "Tty"));
  s->interactive = json_is_true (json_object_get (j, "Interactive"));
  s->readonly_rootfs = json_is_true (json_object_get (j, "ReadOnly"));
  s->unmasked = json_is_true (json_object_get (j, "Unmasked"));
  s->network = (enum nook_network)json_integer_value (json_object_get (j, "Network"));
  /* (a user-mode network's helpers and ports: config.json's NetSpec, cmd/run_net.h) */
  s->caps = (uint64_t)json_integer_value (json_object_get (j, "Caps"));
  s->seccomp_unconfined = json_is_true (json_object_get (j, "SeccompUnconfined"));
  json_t *m = json_object_get (j, "Mounts");
  s->mounts = xzalloc (sizeof *s->mounts * (json_array_size (m) + 1));
  json_array_foreach (m, i, x)
  {
    struct nook_mount *o = &s->mounts[s->n_mounts++];
    const char *kind = json_string_value (json_object_get (x, "Kind"));
    o->kind = kind && strcmp (kind, "tmpfs") == 0  ? MOUNT_TMPFS
              : kind && strcmp (kind, "copy") == 0 ? MOUNT_COPY
                                                   : MOUNT_BIND;
    o->source = jdup (x, "Source");
    o->target = jdup (x, "Target");
    o->readonly = json_is_true (json_object_get (x, "ReadOnly"));
    o->options = jdup (x, "Options");
  }
  json_t *r = json_object_get (j, "Rlimits");
  s->rlimits = xzalloc (sizeof *s->rlimits * (json_array_size (r) + 1));
  json_array_foreach (r, i, x)
  {
    struct nook_rlimit *o = &s->rlimits[s->n_rlimits++];
    o->resource = (int)json_integer_value (json_object_get (x, "Resource"));
    o->soft = (uint64_t)json_integer_value (json_object_get (x, "Soft"));
    o->hard = (uint64_t)json_integer_value (json_object_get (x, "Hard"));
  }
  s->etc_hosts = jdup (j, "EtcHosts");
  s->etc_resolv = jdup (j, "EtcResolv");
  s->etc_hostname = jdup (j, "EtcHostname");
  if (s->argv[0] == NULL)
    return nook_error_set (err, 0, "the container's record has no command");
  return 0;
}

int
container_seccomp_save (int dirfd, const struct nook_spec *s, nook_error_t *err)
{
  if (s->seccomp_bpf == NULL)
    return 0;
  size_t n = 0;
  cleanup_free void *file
      = sandbox_seccomp_file_encode (s->seccomp_bpf, s->seccomp_bpf_len, "", &n);
  return fs_write_file_at (dirfd, "seccomp.bpf", file, n, 0600, err);
}

int
container_seccomp_load (int dirfd, struct nook_spec *s, nook_error_t *err)
{
  if (s->seccomp_unconfined)
    return 0;
  void *data = NULL;
  size_t len = 0;
  /* (a link to the cached program, or a copy: any key) */
  if (sandbox_seccomp_file_read (dirfd, "seccomp.bpf", NULL, &data, &len, err) < 0)
    return nook_error_wrap (err, "the container's seccomp program");
  s->seccomp_bpf = data;
  s->seccomp_bpf_len = len;
  return 0;
}

/* ---- state.json ---- */

void
container_state_clear (struct container_state *st)
{
  free (st->error);
  memset (st, 0, sizeof *st);
}

static char *
rfc3339 (int64_t ns)
{
  if (ns <= 0)
    return xstrdup ("0001-01-01T00:00:00Z");
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r (&t, &tm);
  char buf[64];
  size_t n = strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, sizeof buf - n, ".%09lldZ", (long long)(ns % 1000000000));
  return xstrdup (buf);
}

int
container_state_write (int dirfd, const struct container_state *st, nook_error_t *err)
{
  cleanup_free char *started = rfc3339 (st->started_ns);
  cleanup_free char *finished = rfc3339 (st->finished_ns);
  json_t *o = json_pack (
      "{s:s, s:b, s:b, s:b, s:b, s:i, s:I, s:i, s:I, s:i, s:s?, s:I, s:I, s:s, s:s, s:i, s:b}",
      "Status", st->status, "Running", strcmp (st->status, "running") == 0 || st->paused, "Paused",
      st->paused, "Restarting", strcmp (st->status, "restarting") == 0, "OOMKilled", 0, "Pid",
      (int)st->pid, "InitStart", (json_int_t)st->pid_start, "SupervisorPid", (int)st->sup_pid,
      "SupervisorStart", (json_int_t)st->sup_start, "ExitCode", st->exit_code, "Error", st->error,
      "StartedAt", (json_int_t)(st->started_ns / 1000000000), "FinishedAt",
      (json_int_t)(st->finished_ns / 1000000000), "StartedAtTime", started, "FinishedAtTime",
      finished, "RestartCount", st->restart_count, "ManuallyStopped", st->manually_stopped);
  json_object_set_new (o, "StartedAtNs", json_integer (st->started_ns));
  if (st->cgroup)
    json_object_set_new (o, "Cgroup", json_string (st->cgroup));
  json_object_set_new (o, "FinishedAtNs", json_integer (st->finished_ns));
  cleanup_free char *text = json_dumps (o, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (o);
  if (text == NULL)
    oom ();
  return fs_write_file_at (dirfd, "state.json", text, strlen (text), 0600, err);
}

/* Is the process pid, started at `start` (field 22 of its stat), alive?  Its
 * pidfd says so (a zombie is not alive); /proc only tells it is the same
 * process, read while the pidfd pins the pid. */
bool
container_process_alive (pid_t pid, unsigned long long start)
{
  if (pid <= 0 || start == 0)
    return false;
  cleanup_close int fd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return false;
  if (container_proc_start (pid) != start)
    return false;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll (&p, 1, 0) == 0;
}

void
container_state_read (int cdir, const char *id, struct container_state *st)
{
  memset (st, 0, sizeof *st);
  snprintf (st->status, sizeof st->status, "created");
  json_t *o = container_read_json (cdir, id, "state.json");
  if (o == NULL)
    return;
  const char *s = json_string_value (json_object_get (o, "Status"));
  snprintf (st->status, sizeof st->status, "%s", s ? s : "exited");
  if (strcmp (st->status, "failed") == 0) /* a foreground run that nook failed to start */
    snprintf (st->status, sizeof st->status, "exited");
  st->paused = json_is_true (json_object_get (o, "Paused"));
  st->pid = (pid_t)json_integer_value (json_object_get (o, "Pid"));
  st->pid_start = (unsigned long long)json_integer_value (json_object_get (o, "InitStart"));
  st->sup_pid = (pid_t)json_integer_value (json_object_get (o, "SupervisorPid"));
  st->sup_start = (unsigned long long)json_integer_value (json_object_get (o, "SupervisorStart"));
  st->exit_code = (int)json_integer_value (json_object_get (o, "ExitCode"));
  const char *e = json_string_value (json_object_get (o, "Error"));
  st->error = e && *e ? xstrdup (e) : NULL;
  st->started_ns = json_integer_value (json_object_get (o, "StartedAtNs"));
  st->finished_ns = json_integer_value (json_object_get (o, "FinishedAtNs"));
  if (st->finished_ns == 0)
    st->finished_ns = json_integer_value (json_object_get (o, "FinishedAt")) * 1000000000;
  st->restart_count = (int)json_integer_value (json_object_get (o, "RestartCount"));
  st->manually_stopped = json_is_true (json_object_get (o, "ManuallyStopped"));
  json_decref (o);
  bool live = strcmp (st->status, "running") == 0 || strcmp (st->status, "restarting") == 0
              || strcmp (st->status, "paused") == 0 || strcmp (st->status, "starting") == 0;
  if (live && !container_process_alive (st->sup_pid, st->sup_start))
    {
      /* Its supervisor died without recording the end (killed, a crash, a
       * reboot): the container died with it (PR_SET_PDEATHSIG).  255, as
       * Docker gives containers found dead after a daemon crash. */
      cleanup_free char *why = xasprintf ("the container's supervisor (pid %d) ended without "
                                          "recording its exit",
                                          (int)st->sup_pid);
      snprintf (st->status, sizeof st->status, "exited");
      st->paused = false;
      st->exit_code = 255;
      free (st->error);
      st->error = steal_pointer (&why);
      st->supervisor_lost = true;
    }
}
