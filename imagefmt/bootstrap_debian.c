/* imagefmt/bootstrap_debian.c: see bootstrap_debian.h.
 *
 * 1. The suites: SUITE, SUITE-updates and SUITE-security from the host's apt sources
 *    (or SUITE alone from --mirror), the Date of each one's Release fetched with
 *    apt-helper (so the host's apt proxy and auth apply); the newest is the image's
 *    SOURCE_DATE_EPOCH and `created`.
 * 2. mmdebstrap --variant=minbase [--include], unshare or fakechroot mode, writing a
 *    tar to a pipe.  A customize hook gives the image Docker Hub's sources, drops
 *    the host's resolv.conf and hostname, and records the Date of the Release files
 *    apt really used, so a mirror that changed in between is noticed.
 * 3. That tar is copied entry by entry (what is under ./dev and the record dropped) into a gzip
 *    layer and imported with a config whose every field comes from the inputs: the
 *    same mirror content gives the same image ID to every user on every machine.
 *    The host's proxy reaches apt through http_proxy in mmdebstrap's environment,
 *    never through a file of the image. */
#include "imagefmt/bootstrap_debian.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APT_HELPER "/usr/lib/apt/apt-helper"
#define MERGED_USR_ESSENTIAL "/usr/share/mmdebstrap/hooks/maybe-merged-usr/essential00.sh"
#define DATES_NAME ".nook-bootstrap-release-dates"
#define MAX_RELEASE (64u << 20)
#define MAX_DATES 65536
#define PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/* /usr merged as mmdebstrap's maybe-merged-usr setup hook does it (when the suite has
 * usr-is-merged: the links, and a dummy usr-is-merged that its essential hook replaces
 * with the real one through apt in the chroot), but with the dummy written into the
 * tree's dpkg database rather than installed by the host's `dpkg --root`: the host's
 * dpkg reads the host's /etc/dpkg/dpkg.cfg.d whatever its root, and ran the host's
 * status loggers (needrestart's) on the bootstrap.  Nothing of the host's dpkg or apt
 * configuration runs then: apt's own runs are configured by mmdebstrap (Dir = the tree). */
static const char setup_hook[]
    = "set -eu; "
      "env --chdir=\"$1\" APT_CONFIG=\"$MMDEBSTRAP_APT_CONFIG\" apt-get update --error-on=any; "
      "env --chdir=\"$1\" APT_CONFIG=\"$MMDEBSTRAP_APT_CONFIG\" "
      "apt-cache show --no-all-versions usr-is-merged >/dev/null 2>&1 || exit 0; "
      "eval \"$(APT_CONFIG=\"$MMDEBSTRAP_APT_CONFIG\" apt-config shell ARCH Apt::Architecture)\"; "
      "case $ARCH in amd64|x32) more='lib32 lib64 libx32';; i386) more='lib64 libx32';; "
      "mips|mipsel|ppc64|sparc64) more='lib32 lib64';; "
      "mips64*|mipsn32*) more='lib32 lib64 libo32';; "
      "powerpc|ppc64el|sparc) more=lib64;; s390x) more=lib32;; *) more=;; esac; "
      "for d in bin sbin lib $more; do ln -s \"usr/$d\" \"$1/$d\"; mkdir -p \"$1/usr/$d\"; done; "
      "mkdir -p \"$1/var/lib/dpkg/info\"; : > \"$1/var/lib/dpkg/info/usr-is-merged.list\"; "
      "printf '%s\\n' 'Package: usr-is-merged' 'Status: install ok installed' 'Priority: optional' "
      "'Section: oldlibs' 'Maintainer: nook' 'Architecture: all' 'Multi-Arch: foreign' "
      "'Source: mmdebstrap-dummy-usr-is-merged' 'Version: 1' "
      "'Description: dummy package replaced by the real usr-is-merged' '' "
      ">> \"$1/var/lib/dpkg/status\"";

/* The hook mmdebstrap runs before it packs the tree ($1 = the tree).  One line:
 * mmdebstrap stat()s a hook first, to see whether it names a script. */
static const char customize_hook[]
    = "set -e; "
      "rm -f \"$1/etc/resolv.conf\" \"$1/etc/hostname\" \"$1/etc/apt/sources.list\"; "
      "mkdir -p \"$1/etc/apt/sources.list.d\"; "
      "printf '%s' \"$NOOK_DEBIAN_SOURCES\" > \"$1/etc/apt/sources.list.d/debian.sources\"; "
      "chmod 0644 \"$1/etc/apt/sources.list.d/debian.sources\"; "
      "{ cat \"$1\"/var/lib/apt/lists/*Release 2>/dev/null | grep '^Date:' || true; } "
      "> \"$1/" DATES_NAME "\"";

/* ---- the host ---- */

char *
imagefmt_debian_host_codename (void)
{
  static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *text = NULL;
      cleanup_error nook_error_t e = NULL;
      if (fs_read_file_at (AT_FDCWD, files[i], 1u << 20, &text, NULL, &e) == 0)
        return imagefmt_os_release_codename (text);
    }
  return NULL;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The deb entries of /etc/apt/sources.list and /etc/apt/sources.list.d/ in apt's order. */
static void
host_sources (struct imagefmt_apt_source **v, size_t *n)
{
  cleanup_free char *list = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, "/etc/apt/sources.list", 4u << 20, &list, NULL, &e) == 0)
    imagefmt_apt_sources_parse (list, false, v, n);
  cleanup_dir DIR *d = opendir ("/etc/apt/sources.list.d");
  cleanup_strv char **names = xzalloc (sizeof (char *));
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (str_has_suffix (de->d_name, ".list") || str_has_suffix (de->d_name, ".sources"))
      strv_push (&names, de->d_name);
  qsort (names, strv_len (names), sizeof *names, cmp_str);
  for (size_t i = 0; names[i]; i++)
    {
      cleanup_free char *path = xasprintf ("/etc/apt/sources.list.d/%s", names[i]);
      cleanup_free char *text = NULL;
      cleanup_error nook_error_t e2 = NULL;
      if (fs_read_file_at (AT_FDCWD, path, 4u << 20, &text, NULL, &e2) == 0)
        imagefmt_apt_sources_parse (text, str_has_suffix (names[i], ".sources"), v, n);
    }
}

/* ---- child processes ---- */

static void
env_set (char ***env, const char *name, const char *value)
{
  size_t len = strlen (name);
  for (size_t i = 0; (*env)[i]; i++)
    if (strncmp ((*env)[i], name, len) == 0 && (*env)[i][len] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xasprintf ("%s=%s", name, value);
        return;
      }
  strv_push_take (env, xasprintf ("%s=%s", name, value));
}

static void
env_unset (char **env, const char *name)
{
  size_t len = strlen (name), j = 0;
  for (size_t i = 0; env[i]; i++)
    {
      if (strncmp (env[i], name, len) == 0 && env[i][len] == '=')
        free (env[i]);
      else
        env[j++] = env[i];
    }
  env[j] = NULL;
}

/* Start argv (searched in PATH) with envp; stdin /dev/null, stdout to out_fd and
 * stderr to err_fd (-1: ours).  The child leads a session of its own: what it or its
 * children send to their process group (mmdebstrap sends SIGHUP to its group when its
 * tarball fails), and a terminal's signals, never reach nook; nook forwards its own (see
 * forward_signals) and kills the child's group. */
static int
spawn (char *const argv[], char *const envp[], int out_fd, int err_fd, pid_t *pid,
       nook_error_t *err)
{
  cleanup_close int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return nook_error_set (err, errno, "open /dev/null");
  pid_t parent = getpid ();
  *pid = fork ();
  if (*pid < 0)
    return nook_error_set (err, errno, "fork");
  if (*pid == 0)
    {
      sigset_t all;
      sigemptyset (&all);
      sigprocmask (SIG_SETMASK, &all, NULL);
      signal (SIGPIPE, SIG_DFL);
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      setsid ();
      /* nook killed outright: the child is told (mmdebstrap cleans up on SIGTERM) */
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      if (getppid () != parent)
        _exit (125);
      if (dup2 (null, 0) < 0 || dup2 (out_fd >= 0 ? out_fd : null, 1) < 0
          || (err_fd >= 0 && dup2 (err_fd, 2) < 0) || chdir ("/") < 0)
        _exit (126);
      execvpe (argv[0], argv, envp);
      _exit (127);
    }
  return 0;
}

/* While a child runs: SIGINT, SIGTERM and SIGHUP sent to nook go to the child's whole
 * process group (it has a session of its own: spawn), then nook waits for it as usual. */
static volatile sig_atomic_t forward_to;

static void
forward_signal (int sig)
{
  pid_t p = (pid_t)forward_to;
  if (p > 0 && kill (-p, sig) < 0)
    kill (p, sig); /* not yet the leader of its group */
}

static void
forward_signals (pid_t pid, struct sigaction old[3])
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
  sigemptyset (&sa.sa_mask);
  forward_to = pid;
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    sigaction (sigs[i], pid > 0 ? &sa : &old[i], pid > 0 ? &old[i] : NULL);
}

static int
wait_child (pid_t pid, const char *what, nook_error_t *err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return nook_error_set (err, errno, "wait for %s", what);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return nook_error_set (err, ENOENT, "%s could not be started (is it installed?)", what);
  if (WIFEXITED (status))
    return nook_error_set (err, EIO, "%s failed (exit status %d)", what, WEXITSTATUS (status));
  return nook_error_set (err, EINTR, "%s killed by signal %d", what, WTERMSIG (status));
}

/* Run argv to its end, its stdout (at most max bytes) in *out. */
static int
run_capture (char *const argv[], char *const envp[], size_t max, char **out, nook_error_t *err)
{
  int p[2];
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe");
  if (spawn (argv, envp, p[1], -1, &pid, err) < 0)
    {
      close (p[0]);
      close (p[1]);
      return -1;
    }
  close (p[1]);
  struct strbuf b = { 0 };
  char buf[4096];
  ssize_t n;
  while ((n = read (p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && b.len < max)
      strbuf_appendn (&b, buf, (size_t)n);
  close (p[0]);
  if (wait_child (pid, argv[0], err) < 0)
    {
      strbuf_free (&b);
      return -1;
    }
  *out = b.buf ? strbuf_steal (&b) : xstrdup ("");
  return 0;
}

/* The host's apt proxies as http_proxy/https_proxy in env (unless already set):
 * mmdebstrap's apt reads no configuration of the host's, and --aptopt would leave the
 * proxy in the image. */
static void
apt_proxies (char ***env)
{
  char *argv[]
      = { "apt-config", "shell", "H", "Acquire::http::Proxy", "S", "Acquire::https::Proxy", NULL };
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t e = NULL;
  if (run_capture (argv, *env, 65536, &out, &e) < 0)
    {
      log_debug ("bootstrap: apt-config: %s", e->msg);
      return;
    }
  static const struct
  {
    const char *var, *env;
  } map[] = { { "H", "http_proxy" }, { "S", "https_proxy" } };
  for (size_t i = 0; i < ARRAY_SIZE (map); i++)
    {
      cleanup_free char *v = imagefmt_apt_shell_value (out, map[i].var);
      if (v == NULL || *v == '\0' || strcasecmp (v, "DIRECT") == 0 || getenv (map[i].env))
        continue;
      log_debug ("bootstrap: %s from apt's configuration: %s", map[i].env, v);
      env_set (env, map[i].env, v);
    }
}

/* ---- Release dates ---- */

struct suite_src
{
  char *uri, *suite;
};

/* Did apt-helper say 404 (the mirror has no InRelease: try Release)? */
static bool
not_found (const char *log_path)
{
  cleanup_free char *log = NULL;
  cleanup_error nook_error_t e = NULL;
  return fs_read_file_at (AT_FDCWD, log_path, 65536, &log, NULL, &e) == 0
         && strstr (log, " 404 ") != NULL;
}

static int
fetch_release_date (const char *work, const struct suite_src *ss, unsigned idx, char *const *env,
                    int64_t *date, nook_error_t *err)
{
  static const char *const names[] = { "InRelease", "Release" };
  cleanup_free char *log_path = xasprintf ("%s/fetch-%u.log", work, idx);
  cleanup_close int logfd
      = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (logfd < 0)
    return nook_error_set (err, errno, "create '%s'", log_path);
  cleanup_free char *url = NULL;
  cleanup_free char *dest = NULL;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      free (url);
      free (dest);
      url = xasprintf ("%s/dists/%s/%s", ss->uri, ss->suite, names[i]);
      dest = xasprintf ("%s/release-%u-%zu", work, idx, i);
      char *argv[] = { APT_HELPER,
                       "-o",
                       "Acquire::Retries=0",
                       "-o",
                       "Acquire::http::Timeout=20",
                       "-o",
                       "Acquire::https::Timeout=20",
                       "download-file",
                       url,
                       dest,
                       NULL };
      pid_t pid;
      cleanup_error nook_error_t e = NULL;
      if (spawn (argv, env, logfd, logfd, &pid, err) < 0)
        return -1;
      if (wait_child (pid, APT_HELPER, &e) < 0)
        {
          if (e->code == ENOENT)
            return nook_error_set (err, 0, "%s is missing (install apt)", APT_HELPER);
          if (!not_found (log_path))
            break; /* unreachable: Release would fail the same way */
          continue;
        }
      cleanup_free char *text = NULL;
      if (fs_read_file_at (AT_FDCWD, dest, MAX_RELEASE, &text, NULL, err) < 0)
        return -1;
      if (imagefmt_release_date (text, date, err) < 0)
        return nook_error_wrap (err, "%s", url);
      return 0;
    }
  /* Both failed: apt-helper's own words say why ("404  Not Found", "Could not resolve"). */
  cleanup_free char *log = NULL;
  cleanup_error nook_error_t e = NULL;
  fs_read_file_at (AT_FDCWD, log_path, 65536, &log, NULL, &e);
  const char *why = log ? strstr (log, "E: ") : NULL;
  cleanup_free char *line = why ? xstrndup (why + 3, strcspn (why + 3, "\n")) : NULL;
  return nook_error_set (err, 0, "cannot fetch the Release of %s from %s: %s", ss->suite, ss->uri,
                         line ? line : "apt-helper failed");
}

/* ---- the tar ---- */

static void
cleanup_read (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

static void
cleanup_write (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

/* "./dev/null" -> "dev/null"; "./" -> "". */
static const char *
rel_name (const char *p)
{
  while (*p == '.' && p[1] == '/')
    p += 2;
  while (*p == '/')
    p++;
  return strcmp (p, ".") == 0 ? "" : p;
}

/* Below ./dev ("./dev/" itself stays)? */
static bool
under_dev (const char *name)
{
  if (strncmp (name, "dev/", 4) != 0)
    return false;
  name += 4;
  while (*name == '/')
    name++;
  return *name != '\0';
}

/* Copy mmdebstrap's tar from in_fd to a gzip tar on out_fd, dropping what is under ./dev (nook
 * mounts /dev; Docker Hub's debuerreotype drops it too) and the dates record, which
 * goes to *dates.  -1 when the tar could not be read (mmdebstrap's failure, if it failed,
 * says why), -2 when the layer could not be written. */
static int
filter_tar (int in_fd, int out_fd, char **dates, uint64_t *entries, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  __attribute__ ((cleanup (cleanup_read))) struct archive *r = archive_read_new ();
  __attribute__ ((cleanup (cleanup_write))) struct archive *w = archive_write_new ();
  if (r == NULL || w == NULL)
    oom ();
  archive_read_support_format_tar (r);
  if (archive_read_open_fd (r, in_fd, 1 << 16) != ARCHIVE_OK)
    return nook_error_set (err, EIO, "read mmdebstrap's tar: %s", archive_error_string (r));
  if (archive_write_set_format_pax_restricted (w) != ARCHIVE_OK
      || archive_write_add_filter_gzip (w) != ARCHIVE_OK
      || archive_write_set_options (w, "gzip:!timestamp") != ARCHIVE_OK
      || archive_write_open_fd (w, out_fd) != ARCHIVE_OK)
    {
      nook_error_set (err, EIO, "layer writer: %s", archive_error_string (w));
      return -2;
    }
  struct strbuf d = { 0 };
  struct archive_entry *e;
  char buf[1 << 16];
  int rr;
  *entries = 0;
  while ((rr = archive_read_next_header (r, &e)) == ARCHIVE_OK || rr == ARCHIVE_WARN)
    {
      const char *name = rel_name (archive_entry_pathname (e) ? archive_entry_pathname (e) : "");
      if (strcmp (name, DATES_NAME) == 0)
        {
          la_ssize_t n;
          while ((n = archive_read_data (r, buf, sizeof buf)) > 0)
            if (d.len < MAX_DATES)
              strbuf_appendn (&d, buf, (size_t)n);
          continue;
        }
      if (under_dev (name))
        continue;
      if (archive_write_header (w, e) < ARCHIVE_WARN)
        {
          strbuf_free (&d);
          nook_error_set (err, EIO, "write layer entry '%s': %s", name, archive_error_string (w));
          return -2;
        }
      la_ssize_t n;
      while ((n = archive_read_data (r, buf, sizeof buf)) > 0)
        if (archive_write_data (w, buf, (size_t)n) != n)
          {
            strbuf_free (&d);
            nook_error_set (err, EIO, "write layer data of '%s': %s", name,
                            archive_error_string (w));
            return -2;
          }
      if (n < 0)
        {
          strbuf_free (&d);
          return nook_error_set (err, EIO, "read '%s' from mmdebstrap's tar: %s", name,
                                 archive_error_string (r));
        }
      (*entries)++;
    }
  if (rr != ARCHIVE_EOF)
    {
      strbuf_free (&d);
      return nook_error_set (err, EIO, "read mmdebstrap's tar: %s", archive_error_string (r));
    }
  if (archive_write_close (w) != ARCHIVE_OK)
    {
      strbuf_free (&d);
      nook_error_set (err, EIO, "finish the layer: %s", archive_error_string (w));
      return -2;
    }
  *dates = d.buf ? strbuf_steal (&d) : xstrdup ("");
  return 0;
}

/* The newest Date of the lines of the record (0 when none). */
static int64_t
newest_date (const char *lines)
{
  int64_t best = 0;
  for (const char *p = lines; *p;)
    {
      const char *nl = strchrnul (p, '\n');
      cleanup_free char *line = xstrndup (p, (size_t)(nl - p));
      int64_t t;
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_release_date (line, &t, &e) == 0 && t > best)
        best = t;
      p = *nl ? nl + 1 : nl;
    }
  return best;
}

/* ---- the whole ---- */

/* mmdebstrap in unshare mode needs a TMPDIR its subordinate ids can reach: every
 * directory from / to it searchable by others. */
static bool
reachable_by_others (const char *dir)
{
  if (dir == NULL || dir[0] != '/')
    return false;
  cleanup_free char *p = xstrdup (dir);
  for (char *s = p + strlen (p);; s = strrchr (p, '/'))
    {
      *s = '\0';
      struct stat st;
      if (stat (*p ? p : "/", &st) < 0 || !S_ISDIR (st.st_mode) || !(st.st_mode & S_IXOTH))
        return false;
      if (s == p)
        return true;
    }
}

static void say (const struct imagefmt_debian_opts *o, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
say (const struct imagefmt_debian_opts *o, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *line = NULL;
  if (vasprintf (&line, fmt, ap) < 0)
    oom ();
  va_end (ap);
  if (o->progress)
    o->progress (line);
  else
    log_info ("%s", line);
}

static char *
rfc3339 (int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[64] = "1970-01-01T00:00:00Z";
  if (gmtime_r (&tt, &tm))
    strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

struct run
{
  char *work;
  struct suite_src *suites;
  size_t nsuites;
  char **env;
  char **argv;
};

static void
run_free (struct run *r)
{
  if (r->work)
    {
      cleanup_error nook_error_t e = NULL;
      if (fs_rm_rf_at (AT_FDCWD, r->work, &e) < 0)
        log_warn ("bootstrap: could not remove '%s': %s", r->work, e->msg);
    }
  for (size_t i = 0; i < r->nsuites; i++)
    {
      free (r->suites[i].uri);
      free (r->suites[i].suite);
    }
  free (r->suites);
  strv_free (r->env);
  strv_free (r->argv);
  free (r->work);
}

static void
add_suite (struct run *r, const char *uri, const char *suite)
{
  r->suites = xreallocarray (r->suites, r->nsuites + 1, sizeof *r->suites);
  r->suites[r->nsuites].uri = xstrdup (uri);
  r->suites[r->nsuites].suite = xstrdup (suite);
  r->nsuites++;
}

static void
plan_suites (struct run *r, const struct imagefmt_debian_opts *o)
{
  if (o->mirror)
    {
      cleanup_free char *m = xstrdup (o->mirror);
      for (size_t len = strlen (m); len > 0 && m[len - 1] == '/'; len--)
        m[len - 1] = '\0';
      add_suite (r, m, o->suite);
      return;
    }
  struct imagefmt_apt_source *v = NULL;
  size_t n = 0;
  host_sources (&v, &n);
  cleanup_free char *codename = imagefmt_debian_host_codename ();
  cleanup_free char *archive = NULL;
  cleanup_free char *security = NULL;
  imagefmt_debian_host_uris (v, n, codename, &archive, &security);
  imagefmt_apt_sources_free (v, n);
  add_suite (r, archive, o->suite);
  if (imagefmt_debian_suite_has_updates (o->suite))
    {
      cleanup_free char *u = xasprintf ("%s-updates", o->suite);
      cleanup_free char *s = xasprintf ("%s-security", o->suite);
      add_suite (r, archive, u);
      add_suite (r, security, s);
    }
}

static void
make_argv (struct run *r, const struct imagefmt_debian_opts *o)
{
  r->argv = xzalloc (sizeof (char *));
  strv_push (&r->argv, "mmdebstrap");
  strv_push (&r->argv, o->mode == IMAGEFMT_DEBIAN_UNSHARE ? "--mode=unshare" : "--mode=fakechroot");
  strv_push (&r->argv, "--variant=minbase");
  strv_push (&r->argv, "--format=tar");
  strv_push (&r->argv, "--components=main");
  /* /usr merged the way debootstrap (and so Docker Hub's image) does it, rather than
   * through the usrmerge package, which would pull perl in (50 MB). */
  if (access (MERGED_USR_ESSENTIAL, X_OK) == 0)
    {
      strv_push_take (&r->argv, xasprintf ("--setup-hook=%s", setup_hook));
      strv_push (&r->argv, "--essential-hook=" MERGED_USR_ESSENTIAL);
    }
  if (o->include && o->include[0])
    {
      struct strbuf b = { 0 };
      strbuf_append (&b, "--include=");
      for (size_t i = 0; o->include[i]; i++)
        strbuf_appendf (&b, "%s%s", i ? "," : "", o->include[i]);
      strv_push_take (&r->argv, strbuf_steal (&b));
    }
  strv_push_take (&r->argv, xasprintf ("--customize-hook=%s", customize_hook));
  strv_push (&r->argv, o->suite);
  strv_push (&r->argv, "-");
  for (size_t i = 0; i < r->nsuites; i++)
    strv_push_take (&r->argv, xasprintf ("deb %s %s main", r->suites[i].uri, r->suites[i].suite));
}

/* Read fd to its end.  A tar reader stops at the end-of-archive blocks; tar pads its
 * output past them to a whole record, and mmdebstrap copies that tail in writes of its
 * own: a pipe closed at the marker failed a tail written after it (EPIPE, mmdebstrap's
 * "cannot copy to standard output", exit 25: once in a while, as the writes fell). */
static void
drain (int fd)
{
  char buf[1 << 14];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    ;
}

/* Run mmdebstrap and filter its tar into layer_fd. */
static int
run_mmdebstrap (struct run *r, int layer_fd, char **dates, uint64_t *entries, nook_error_t *err)
{
  int p[2];
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe");
  if (spawn (r->argv, r->env, p[1], -1, &pid, err) < 0)
    {
      close (p[0]);
      close (p[1]);
      return -1;
    }
  close (p[1]);
  struct sigaction old[3];
  forward_signals (pid, old);
  cleanup_error nook_error_t ferr = NULL;
  int fr = filter_tar (p[0], layer_fd, dates, entries, &ferr);
  if (fr == 0)
    drain (p[0]);
  else if (kill (-pid, SIGTERM) < 0)
    kill (pid, SIGTERM); /* it would block on the pipe otherwise */
  close (p[0]);
  cleanup_error nook_error_t werr = NULL;
  int wr = wait_child (pid, "mmdebstrap", &werr);
  forward_signals (0, old);
  if (fr == -2 || (fr < 0 && wr == 0)) /* mmdebstrap's status is only the kill's */
    {
      *err = steal_pointer (&ferr);
      return -1;
    }
  if (wr < 0)
    {
      *err = steal_pointer (&werr);
      return nook_error_wrap (err, "its messages are above");
    }
  return 0;
}

static int
layer_tmp (const char *work, nook_error_t *err)
{
  int fd = open (work, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  cleanup_free char *path = xasprintf ("%s/layer.tar.gz", work);
  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "create '%s'", path);
  unlink (path);
  return fd;
}

/* The config: every field from the inputs (suite, packages, Release date). */
static json_t *
image_config (const struct imagefmt_debian_opts *o, int64_t epoch)
{
  json_t *cfg = imagefmt_store_default_config (epoch, NULL);
  struct strbuf by = { 0 };
  strbuf_appendf (&by, "nook bootstrap debian:%s", o->suite);
  for (size_t i = 0; o->include && o->include[i]; i++)
    strbuf_appendf (&by, "%s%s", i ? "," : " --include ", o->include[i]);
  json_object_set_new (json_array_get (json_object_get (cfg, "history"), 0), "created_by",
                       json_string (by.buf));
  strbuf_free (&by);
  json_object_set_new (
      cfg, "config",
      json_pack ("{s:[s], s:[s]}", "Env",
                 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd",
                 "bash"));
  return cfg;
}

static int
bootstrap (struct imagefmt_store *s, const struct imagefmt_debian_opts *o, struct run *r,
           char **id_out, int64_t *epoch_out, nook_error_t *err)
{
  cleanup_free char *dates = NULL;
  cleanup_free char *sources = NULL;
  cleanup_free char *ref = NULL;
  cleanup_free char *created = NULL;
  cleanup_free char *sde = NULL;
  cleanup_close int layer = -1;
  cleanup_json json_t *cfg = NULL;
  int64_t epoch = 0;
  uint64_t entries = 0;
  const char *tmp = getenv ("TMPDIR");

  r->work = xasprintf ("%s/nook-bootstrap-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (r->work) == NULL)
    {
      nook_error_set (err, errno, "create a temporary directory '%s'", r->work);
      free (r->work);
      r->work = NULL;
      return -1;
    }
  r->env = strv_dup (environ);
  if (getenv ("PATH") == NULL)
    strv_push (&r->env, PATH_ENV);
  apt_proxies (&r->env);
  plan_suites (r, o);
  for (size_t i = 0; i < r->nsuites; i++)
    {
      int64_t t;
      if (fetch_release_date (r->work, &r->suites[i], (unsigned)i, r->env, &t, err) < 0)
        return -1;
      cleanup_free char *when = rfc3339 (t);
      say (o, "%s from %s: Release of %s", r->suites[i].suite, r->suites[i].uri, when);
      if (t > epoch)
        epoch = t;
    }
  created = rfc3339 (epoch);
  say (o, "SOURCE_DATE_EPOCH=%lld (%s), mmdebstrap in %s mode", (long long)epoch, created,
       o->mode == IMAGEFMT_DEBIAN_UNSHARE ? "unshare" : "fakechroot");

  sources = imagefmt_debian_image_sources (o->suite, epoch);
  sde = xasprintf ("%lld", (long long)epoch);
  env_set (&r->env, "SOURCE_DATE_EPOCH", sde);
  env_set (&r->env, "NOOK_DEBIAN_SOURCES", sources);
  if (o->mode == IMAGEFMT_DEBIAN_UNSHARE && tmp && !reachable_by_others (tmp))
    {
      log_debug ("bootstrap: TMPDIR '%s' is not reachable by subordinate ids: /tmp instead", tmp);
      env_unset (r->env, "TMPDIR");
    }
  make_argv (r, o);
  if ((layer = layer_tmp (r->work, err)) < 0
      || run_mmdebstrap (r, layer, &dates, &entries, err) < 0)
    return -1;
  int64_t used = newest_date (dates);
  if (used != epoch)
    {
      cleanup_free char *u = rfc3339 (used);
      return nook_error_set (err, 0,
                             "the mirror changed during the bootstrap (Release of %s before, %s "
                             "used): run it again",
                             created, used ? u : "none");
    }
  if (lseek (layer, 0, SEEK_SET) < 0)
    return nook_error_set (err, errno, "lseek");
  cfg = image_config (o, epoch);
  ref = o->ref ? xstrdup (o->ref) : xasprintf ("debian:%s", o->suite);
  say (o, "importing the layer (%llu entries)", (unsigned long long)entries);
  if (imagefmt_store_import_tar (s, layer, cfg, ref, id_out, err) < 0)
    return -1;
  if (epoch_out)
    *epoch_out = epoch;
  return 0;
}

int
imagefmt_bootstrap_debian (struct imagefmt_store *s, const struct imagefmt_debian_opts *o,
                           char **id_out, int64_t *epoch_out, nook_error_t *err)
{
  struct run r = { 0 };
  if (!imagefmt_debian_suite_valid (o->suite))
    return nook_error_set (err, EINVAL, "invalid Debian suite '%s'", o->suite);
  for (size_t i = 0; o->include && o->include[i]; i++)
    if (!imagefmt_debian_package_valid (o->include[i]))
      return nook_error_set (err, EINVAL, "invalid package name '%s'", o->include[i]);
  int ret = bootstrap (s, o, &r, id_out, epoch_out, err);
  run_free (&r);
  return ret;
}
