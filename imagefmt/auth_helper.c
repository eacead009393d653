/* imagefmt/auth_helper.c: Docker's credential helpers (`credHelpers`, `credsStore` of
 * config.json, also read in auth.json as containers/image does): `docker-credential-NAME
 * get` from PATH, the server on its stdin, {"ServerURL", "Username", "Secret"} on its
 * stdout (Docker's docker-credential-helpers protocol). */
#include "imagefmt/auth.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_OUT_MAX (64u << 10)

static bool
helper_name_ok (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 64)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '-' || *s == '_' || *s == '.'))
      return false;
  return true;
}

int
imagefmt_auth_helper_get (const char *name, const char *server, struct imagefmt_creds *out,
                          nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (!helper_name_ok (name))
    return nook_error_set (err, EINVAL, "credential helper name \"%s\" is not valid", name);
  cleanup_free char *prog = xasprintf ("docker-credential-%s", name);
  int in[2], outp[2], ex[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "run %s", prog);
  if (pipe2 (outp, O_CLOEXEC) < 0 || pipe2 (ex, O_CLOEXEC) < 0)
    {
      int e = errno;
      close (in[0]);
      close (in[1]);
      return nook_error_set (err, e, "run %s", prog);
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      /* stderr stays the user's (a helper may say why it fails) */
      if (dup2 (in[0], 0) < 0 || dup2 (outp[1], 1) < 0)
        _exit (127);
      char *argv[] = { prog, (char *)"get", NULL };
      execvp (prog, argv);
      int e = errno;
      if (write (ex[1], &e, sizeof e) < 0)
        _exit (127);
      _exit (127);
    }
  close (in[0]);
  close (outp[1]);
  close (ex[1]);
  if (pid < 0)
    {
      int e = errno;
      close (in[1]);
      close (outp[0]);
      close (ex[0]);
      return nook_error_set (err, e, "run %s", prog);
    }
  /* the server on stdin; a helper that does not read it must not kill us with SIGPIPE */
  sigset_t pipe_set, old;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
  ssize_t w = write (in[1], server, strlen (server));
  if (w < 0 && errno == EPIPE)
    {
      struct timespec zero = { 0, 0 };
      sigtimedwait (&pipe_set, NULL, &zero);
    }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  close (in[1]);
  struct strbuf b = { 0 };
  char buf[4096];
  ssize_t n;
  while ((n = read (outp[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && b.len < HELPER_OUT_MAX)
      strbuf_appendn (&b, buf, (size_t)n);
  close (outp[0]);
  int exec_errno = 0;
  bool exec_failed = read (ex[0], &exec_errno, sizeof exec_errno) == (ssize_t)sizeof exec_errno;
  close (ex[0]);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  cleanup_free char *text = b.buf ? strbuf_steal (&b) : xstrdup ("");
  if (exec_failed)
    return nook_error_set (err, exec_errno, "credential helper %s cannot be run (is it in PATH?)",
                           prog);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      /* docker-credential-helpers' "credentials not found in native keychain" */
      if (strstr (text, "credentials not found"))
        return 0;
      text[strcspn (text, "\n")] = '\0';
      return nook_error_set (err, 0, "credential helper %s failed%s%s", prog, *text ? ": " : "",
                             text);
    }
  json_error_t je;
  json_t *j = json_loads (text, 0, &je);
  const char *user = json_string_value (json_object_get (j, "Username"));
  const char *secret = json_string_value (json_object_get (j, "Secret"));
  if (user == NULL || secret == NULL)
    {
      json_decref (j);
      return nook_error_set (err, 0,
                             "credential helper %s: its answer is not {\"Username\", "
                             "\"Secret\"}",
                             prog);
    }
  int found = 0;
  if (strcmp (user, "<token>") != 0 && *secret) /* identity tokens: not supported */
    {
      out->username = xstrdup (user);
      out->password = xstrdup (secret);
      out->source = xasprintf ("credential helper %s", prog);
      found = 1;
    }
  explicit_bzero (text, strlen (text));
  json_decref (j);
  return found;
}
