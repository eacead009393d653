/* cmd/build/parallel.c: the stages a target needs, in waves: a wave is every stage whose
 * needs are done; its independent stages run at the same time, as BuildKit runs them, one
 * in this process and each other in a forked child (nook's build runs no threads: a RUN
 * step forks and clones).  A child sends its stage's result back as JSON on a pipe (the
 * state, the build args its ARGs consumed, its --explain-cache records, or its error); the
 * vertex counter #N is shared through an anonymous shared mapping.  The store's lock file
 * is reopened in a child (a shared open file would share the flock).  A failing stage
 * stops the others (SIGTERM: their running step ends and is cleaned up) and its error is
 * the build's.  With --explain-cache a wave's stages run one after the other, in the same
 * order: the records are compared step by step with the last build's. */
#include "cmd/build/build.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv_json.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static bool
ready (const struct build *b, size_t idx)
{
  const struct dockerfile_stage *st = &b->st->stages[idx];
  if (b->done[idx])
    return false;
  for (size_t d = 0; d < st->n_deps; d++)
    if (!b->done[st->deps[d]])
      return false;
  return true;
}

/* In the child: run the stage, send the result, end. */
static void __attribute__ ((noreturn)) child_run (struct build *b, size_t idx, int wfd)
{
  imagefmt_store_forked (b->store);
  size_t e0 = b->explain_now ? json_array_size (b->explain_now) : 0;
  cleanup_error nook_error_t e = NULL;
  int r = build_run_stage (b, idx, &e);
  json_t *j;
  if (r == 0)
    {
      const struct build_state *s = &b->results[idx];
      json_t *ex = json_array ();
      for (size_t i = e0; b->explain_now && i < json_array_size (b->explain_now); i++)
        json_array_append (ex, json_array_get (b->explain_now, i));
      j = json_pack ("{s:O, s:o, s:o, s:o, s:o, s:b}", "config", s->config, "layers",
                     strv_to_json (s->layers), "diff_ids", strv_to_json (s->diff_ids), "used_args",
                     strv_to_json (b->used_args), "explain", ex, "warned", b->warned_single);
    }
  else
    j = json_pack ("{s:s, s:i, s:i}", "error", e && e->msg ? e->msg : "the stage failed", "exit",
                   e ? e->exit : 1, "code", e ? e->code : 0);
  char *text = j ? json_dumps (j, JSON_COMPACT) : NULL;
  if (text)
    (void)fs_write_all (wfd, text, strlen (text));
  if (b->out)
    fflush (b->out);
  _exit (r == 0 && text ? 0 : 1);
}

struct kid
{
  pid_t pid;
  int rfd;
  size_t idx;
};

/* Read a child's answer, wait for it; its result into b (0), or its error (-1). */
static int
child_collect (struct build *b, struct kid *k, nook_error_t *err)
{
  struct strbuf text = { 0 };
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (k->rfd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      strbuf_appendn (&text, buf, (size_t)n);
    }
  close (k->rfd);
  int st = 0;
  while (waitpid (k->pid, &st, 0) < 0 && errno == EINTR)
    ;
  json_t *j = text.buf ? json_loads (text.buf, 0, NULL) : NULL;
  strbuf_free (&text);
  if (j == NULL)
    return nook_error_set_exit (err, 1, 0, "stage %zu: its process ended without a result (%s %d)",
                                k->idx, WIFSIGNALED (st) ? "signal" : "status",
                                WIFSIGNALED (st) ? WTERMSIG (st) : WEXITSTATUS (st));
  const char *msg = json_string_value (json_object_get (j, "error"));
  if (msg)
    {
      int ex = (int)json_integer_value (json_object_get (j, "exit"));
      nook_error_set_exit (err, ex ? ex : 1, (int)json_integer_value (json_object_get (j, "code")),
                           "%s", msg);
      json_decref (j);
      return -1;
    }
  struct build_state *s = &b->results[k->idx];
  build_state_clear (s);
  s->config = json_incref (json_object_get (j, "config"));
  s->layers = strv_from_json (json_object_get (j, "layers"));
  s->diff_ids = strv_from_json (json_object_get (j, "diff_ids"));
  cleanup_strv char **used = strv_from_json (json_object_get (j, "used_args"));
  for (size_t i = 0; used[i]; i++)
    if (!strv_contains (b->used_args, used[i]))
      strv_push (&b->used_args, used[i]);
  size_t i;
  json_t *x;
  json_array_foreach (json_object_get (j, "explain"), i, x)
  {
    if (b->explain_now)
      json_array_append (b->explain_now, x);
  }
  if (json_is_true (json_object_get (j, "warned")))
    b->warned_single = true;
  b->done[k->idx] = true;
  json_decref (j);
  return 0;
}

static int
run_wave (struct build *b, const size_t *wave, size_t wn, nook_error_t *err)
{
  if (b->vshared == NULL)
    {
      void *m
          = mmap (NULL, sizeof (int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED)
        return nook_error_set (err, errno, "mmap");
      b->vshared = m;
    }
  *b->vshared = b->vertex;
  struct kid *kids = xzalloc (wn * sizeof *kids);
  size_t nk = 0;
  int ret = 0;
  if (b->out)
    fflush (b->out);
  fflush (NULL);
  for (size_t w = 1; w < wn; w++)
    {
      int p[2];
      if (pipe2 (p, O_CLOEXEC) < 0)
        {
          ret = nook_error_set (err, errno, "pipe");
          break;
        }
      pid_t pid = fork ();
      if (pid < 0)
        {
          close (p[0]);
          close (p[1]);
          ret = nook_error_set (err, errno, "fork");
          break;
        }
      if (pid == 0)
        {
          close (p[0]);
          child_run (b, wave[w], p[1]);
        }
      close (p[1]);
      kids[nk++] = (struct kid){ .pid = pid, .rfd = p[0], .idx = wave[w] };
    }
  if (ret == 0)
    ret = build_run_stage (b, wave[0], err);
  for (size_t k = 0; k < nk; k++)
    {
      if (ret < 0)
        kill (kids[k].pid, SIGTERM); /* a stage failed: the others stop (and clean up) */
      cleanup_error nook_error_t e = NULL;
      if (child_collect (b, &kids[k], &e) < 0 && ret == 0)
        {
          *err = steal_pointer (&e);
          ret = -1;
        }
    }
  free (kids);
  b->vertex = *b->vshared > b->vertex ? *b->vshared : b->vertex;
  return ret;
}

int
build_run_stages (struct build *b, const size_t *order, size_t n, nook_error_t *err)
{
  cleanup_free size_t *wave = xzalloc ((n + 1) * sizeof *wave);
  for (;;)
    {
      size_t wn = 0;
      for (size_t i = 0; i < n; i++)
        if (ready (b, order[i]))
          wave[wn++] = order[i];
      if (wn == 0)
        break;
      if (wn == 1 || b->o->explain_cache)
        {
          for (size_t i = 0; i < wn; i++)
            if (build_run_stage (b, wave[i], err) < 0)
              return -1;
          continue;
        }
      if (run_wave (b, wave, wn, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < n; i++)
    if (!b->done[order[i]])
      return nook_error_set_exit (err, 1, 0, "stage %zu could not run: its needs were not built",
                                  order[i]);
  return 0;
}
