/* tests/fuzz/replay.c: a main() for libFuzzer targets, so the saved corpus runs in
 * `make test` without clang: each argument is a file or a directory of files. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rbe");
  if (f == NULL)
    return -1;
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc (cap);
  size_t n;
  while (buf && (n = fread (buf + len, 1, cap - len, f)) > 0)
    {
      len += n;
      if (len == cap)
        buf = realloc (buf, cap *= 2);
    }
  fclose (f);
  if (buf == NULL)
    return -1;
  LLVMFuzzerTestOneInput (buf, len);
  free (buf);
  return 0;
}

int
main (int argc, char **argv)
{
  int count = 0;
  for (int i = 1; i < argc; i++)
    {
      struct stat st;
      if (stat (argv[i], &st) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        {
          count += run_file (argv[i]) == 0;
          continue;
        }
      DIR *d = opendir (argv[i]);
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        {
          if (de->d_name[0] == '.')
            continue;
          char path[4096];
          snprintf (path, sizeof path, "%s/%s", argv[i], de->d_name);
          count += run_file (path) == 0;
        }
      if (d)
        closedir (d);
    }
  printf ("%d inputs replayed\n", count);
  return 0;
}
