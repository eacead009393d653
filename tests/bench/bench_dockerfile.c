/* tests/bench/bench_dockerfile.c: Dockerfile parse speed.
 *   bench_dockerfile [CONFORMANCE_DIR]   (default tests/data/conformance)
 * Parses a generated 5,000-line Dockerfile (varied instructions, continuations,
 * heredocs) and every Dockerfile of the two conformance sets, 50 times each, and
 * prints the median time and throughput. */
#include "imagefmt/dockerfile/parser.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 50

struct input
{
  char *buf;
  size_t len;
};

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static char *
generate (size_t target_lines, size_t *len)
{
  struct strbuf b = { 0 };
  size_t lines = 0, i = 0;
  strbuf_append (&b, "# syntax=docker/dockerfile:1\nARG BASE=alpine:3.20\n");
  lines += 2;
  while (lines < target_lines)
    {
      switch (i++ % 10)
        {
        case 0:
          strbuf_appendf (&b, "FROM --platform=$BUILDPLATFORM ${BASE} AS stage%zu\n", i);
          lines += 1;
          break;
        case 1:
          strbuf_appendf (&b,
                          "RUN apk add --no-cache \\\n    curl \\\n    # a comment\n    git "
                          "make gcc musl-dev && \\\n    echo step %zu\n",
                          i);
          lines += 5;
          break;
        case 2:
          strbuf_appendf (&b, "ENV PATH=/opt/bin:$PATH LANG=C.UTF-8 STEP=%zu\n", i);
          lines += 1;
          break;
        case 3:
          strbuf_appendf (&b, "COPY --from=stage1 --chown=1000:1000 [\"/src/%zu\", \"/dst/\"]\n",
                          i);
          lines += 1;
          break;
        case 4:
          strbuf_append (&b, "RUN <<EOF\nset -e\necho \"heredoc body\"\nfor i in 1 2 3; do echo "
                             "$i; done\nEOF\n");
          lines += 5;
          break;
        case 5:
          strbuf_appendf (&b, "LABEL org.example.step=\"%zu\" org.example.desc=\"a b c\"\n", i);
          lines += 1;
          break;
        case 6:
          strbuf_append (&b, "HEALTHCHECK --interval=30s CMD [\"curl\", \"-f\", \"http://x/\"]\n");
          lines += 1;
          break;
        case 7:
          strbuf_append (&b, "COPY <<-EOT /etc/app.conf\n\tkey=value\n\tother=1\n\tEOT\n");
          lines += 4;
          break;
        case 8:
          strbuf_append (&b, "RUN --mount=type=cache,target=/root/.cache go build -o /out ./...\n");
          lines += 1;
          break;
        default:
          strbuf_append (&b, "WORKDIR /app\nUSER app\nEXPOSE 8080/tcp\nCMD [\"/out/app\"]\n");
          lines += 4;
        }
    }
  *len = b.len;
  return strbuf_steal (&b);
}

static void
add_file (struct input **in, size_t *n, const char *path)
{
  cleanup_error nook_error_t err = NULL;
  char *buf = NULL;
  size_t len = 0;
  if (fs_read_file_at (AT_FDCWD, path, DOCKERFILE_MAX_SIZE, &buf, &len, &err) < 0)
    return;
  *in = xreallocarray (*in, *n + 1, sizeof **in);
  (*in)[(*n)++] = (struct input){ buf, len };
}

static void
add_cases (struct input **in, size_t *n, const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *p = xasprintf ("%s/%s/Dockerfile", dir, de->d_name);
      add_file (in, n, p);
    }
}

/* Median of RUNS passes over all inputs, in ms. */
static double
bench (const struct input *in, size_t n, size_t *bytes)
{
  double t[RUNS];
  *bytes = 0;
  for (size_t i = 0; i < n; i++)
    *bytes += in[i].len;
  for (int r = 0; r < RUNS; r++)
    {
      double t0 = now_ms ();
      for (size_t i = 0; i < n; i++)
        {
          struct dockerfile *df = NULL;
          nook_error_t err = NULL;
          if (dockerfile_parse (in[i].buf, in[i].len, "bench", &df, &err) < 0)
            nook_error_free (&err);
          dockerfile_free (df);
        }
      t[r] = now_ms () - t0;
    }
  qsort (t, RUNS, sizeof *t, cmp_double);
  return t[RUNS / 2];
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "tests/data/conformance";
  struct input gen = { 0 };
  struct input *conf = NULL;
  size_t nconf = 0, bytes;
  gen.buf = generate (5000, &gen.len);
  double ms = bench (&gen, 1, &bytes);
  printf ("dockerfile-parse: 5000-line file %zu KB, %.2f ms median of %d, %.0f MB/s\n",
          bytes / 1024, ms, RUNS, (double)bytes / 1e6 / (ms / 1e3));
  cleanup_free char *bk = xasprintf ("%s/buildkit-parser/testfiles", dir);
  cleanup_free char *bkn = xasprintf ("%s/buildkit-parser/testfiles-negative", dir);
  cleanup_free char *rw = xasprintf ("%s/real-world-dockerfiles/cases", dir);
  add_cases (&conf, &nconf, bk);
  add_cases (&conf, &nconf, bkn);
  add_cases (&conf, &nconf, rw);
  if (nconf == 0)
    {
      fprintf (stderr, "bench_dockerfile: no Dockerfiles under %s\n", dir);
      return 1;
    }
  ms = bench (conf, nconf, &bytes);
  printf ("dockerfile-parse: conformance set %zu files %zu KB, %.2f ms median of %d, %.0f MB/s\n",
          nconf, bytes / 1024, ms, RUNS, (double)bytes / 1e6 / (ms / 1e3));
  for (size_t i = 0; i < nconf; i++)
    free (conf[i].buf);
  free (conf);
  free (gen.buf);
  return 0;
}
