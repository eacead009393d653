/* cmd/build/git.c: ADD of a git repository (`ADD https://host/repo.git#ref:subdir /dst`),
 * BuildKit's rules: a source is a git repository when it starts with git:// or ssh:// or
 * git@, or is an http(s) URL whose path ends in ".git"; the fragment names the ref (a
 * branch, a tag, a commit; HEAD when none) and, after a ':', the subdirectory copied.
 * The ref is resolved to a commit with `git ls-remote` at each build (the commit keys the
 * step, as BuildKit's cache); only a step that runs clones (`git clone --no-checkout`, then
 * the commit checked out, detached), into the step's directory.  git runs as the user, on
 * the host, with no terminal prompt; the Debian package git must be installed. */
#include "cmd/build/build.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIT_OUT_MAX (8u << 20)

bool
build_git_source (const char *src)
{
  if (strncmp (src, "git://", 6) == 0 || strncmp (src, "ssh://", 6) == 0
      || strncmp (src, "git@", 4) == 0)
    return true;
  if (strncmp (src, "http://", 7) && strncmp (src, "https://", 8))
    return false;
  size_t n = strcspn (src, "#?");
  return n >= 4 && strncmp (src + n - 4, ".git", 4) == 0;
}

int
build_git_parse (const char *src, char **remote, char **ref, char **subdir, nook_error_t *err)
{
  const char *hash = strchr (src, '#');
  *remote = hash ? xstrndup (src, (size_t)(hash - src)) : xstrdup (src);
  *ref = NULL;
  *subdir = NULL;
  if (hash)
    {
      const char *frag = hash + 1;
      const char *colon = strchr (frag, ':');
      *ref = colon ? xstrndup (frag, (size_t)(colon - frag)) : xstrdup (frag);
      if (colon && colon[1])
        *subdir = xstrdup (colon + 1);
    }
  if (*ref && **ref == '\0')
    {
      free (*ref);
      *ref = NULL;
    }
  const char *bad = NULL;
  if (*ref && ((*ref)[0] == '-' || strstr (*ref, "..") || strpbrk (*ref, " \t\n~^:?*[\\")))
    bad = *ref;
  else if (*subdir && (strstr (*subdir, "..") || (*subdir)[0] == '-'))
    bad = *subdir;
  if (bad || (*remote)[0] == '-')
    {
      nook_error_set (err, EINVAL, "ADD %s: invalid git reference '%s'", src, bad ? bad : *remote);
      free (*remote);
      free (*ref);
      free (*subdir);
      *remote = *ref = *subdir = NULL;
      return -1;
    }
  return 0;
}

/* Run git with argv (argv[0] "git"); its stdout in *out (may be NULL), 0 on exit 0, else
 * an error naming what it printed on stderr. */
static int
git_run (char *const *argv, char **out, nook_error_t *err)
{
  int po[2];
  cleanup_close int errfd = memfd_create ("git-stderr", MFD_CLOEXEC);
  if (errfd < 0 || pipe2 (po, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "run git");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (po[1], 1) < 0 || dup2 (errfd, 2) < 0)
        _exit (127);
      signal (SIGPIPE, SIG_DFL);
      setenv ("GIT_TERMINAL_PROMPT", "0", 1);
      setenv ("GIT_ASKPASS", "true", 1);
      setenv ("LC_ALL", "C", 1);
      execvp ("git", argv);
      dprintf (2, "cannot run git: %s (install the package git)", strerror (errno));
      _exit (127);
    }
  close (po[1]);
  if (pid < 0)
    {
      close (po[0]);
      return nook_error_set (err, errno, "fork git");
    }
  struct strbuf b = { 0 };
  char buf[8192];
  ssize_t n;
  while ((n = read (po[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && b.len < GIT_OUT_MAX)
      strbuf_appendn (&b, buf, (size_t)n);
  close (po[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      strbuf_free (&b);
      char msg[2048];
      ssize_t k = pread (errfd, msg, sizeof msg - 1, 0);
      msg[k > 0 ? k : 0] = '\0';
      /* its last line says why */
      size_t len = strlen (msg);
      while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
      char *last = strrchr (msg, '\n');
      return nook_error_set (err, 0, "git %s failed (%s%d)%s%s", argv[1],
                             WIFEXITED (status) ? "exit status " : "signal ",
                             WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                             *msg ? ": " : "", last ? last + 1 : msg);
    }
  if (out)
    *out = b.buf ? strbuf_steal (&b) : xstrdup ("");
  else
    strbuf_free (&b);
  return 0;
}

static bool
is_commit (const char *s)
{
  size_t n = strspn (s, "0123456789abcdef");
  return (n == 40 || n == 64) && s[n] == '\0';
}

int
build_git_resolve (const char *remote, const char *ref, char **commit, nook_error_t *err)
{
  *commit = NULL;
  if (ref && is_commit (ref))
    {
      *commit = xstrdup (ref);
      return 0;
    }
  const char *want = ref ? ref : "HEAD";
  char *argv[]
      = { (char *)"git", (char *)"ls-remote", (char *)"--", (char *)remote, (char *)want, NULL };
  cleanup_free char *out = NULL;
  if (git_run (argv, &out, err) < 0)
    return nook_error_wrap (err, "resolve '%s' of %s", want, remote);
  /* "SHA\tNAME" lines: an exact name first, then a branch, then a tag (peeled) */
  cleanup_free char *heads = xasprintf ("refs/heads/%s", want);
  cleanup_free char *tags = xasprintf ("refs/tags/%s", want);
  cleanup_free char *peeled = xasprintf ("refs/tags/%s^{}", want);
  const char *order[] = { want, heads, peeled, tags };
  for (size_t k = 0; k < ARRAY_SIZE (order) && *commit == NULL; k++)
    {
      char *save = NULL;
      cleanup_free char *copy = xstrdup (out);
      for (char *l = strtok_r (copy, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
        {
          char *tab = strchr (l, '\t');
          if (tab == NULL)
            continue;
          *tab = '\0';
          if (strcmp (tab + 1, order[k]) == 0 && is_commit (l))
            {
              *commit = xstrdup (l);
              break;
            }
        }
    }
  if (*commit == NULL)
    return nook_error_set (err, ENOENT, "git: %s has no ref '%s'", remote, want);
  return 0;
}

int
build_git_checkout (const char *remote, const char *commit, const char *dir, nook_error_t *err)
{
  char *clone[] = { (char *)"git",
                    (char *)"-c",
                    (char *)"advice.detachedHead=false",
                    (char *)"clone",
                    (char *)"-q",
                    (char *)"--no-checkout",
                    (char *)"--",
                    (char *)remote,
                    (char *)dir,
                    NULL };
  if (git_run (clone, NULL, err) < 0)
    return nook_error_wrap (err, "clone %s", remote);
  char *co[] = { (char *)"git",
                 (char *)"-C",
                 (char *)dir,
                 (char *)"-c",
                 (char *)"advice.detachedHead=false",
                 (char *)"checkout",
                 (char *)"-q",
                 (char *)commit,
                 NULL };
  if (git_run (co, NULL, err) < 0)
    return nook_error_wrap (err, "check out %s of %s", commit, remote);
  return 0;
}
