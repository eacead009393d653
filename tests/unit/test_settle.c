/* tests/unit/test_settle.c: mem_settle gives back what an idle process no longer
 * uses (a file mapping's pages, freed heap) and nothing it still holds (a private
 * page of a read-only file mapping, the live stack and heap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/settle.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* kB of one of this process's mappings (field "Rss:" or "Anonymous:"), by its start */
static long
mapping_kb (void *addr, const char *field)
{
  FILE *f = fopen ("/proc/self/smaps", "re");
  assert_non_null (f);
  char line[512];
  bool in = false;
  long v = -1;
  char want[32];
  snprintf (want, sizeof want, "%lx-", (unsigned long)(uintptr_t)addr);
  while (fgets (line, sizeof line, f))
    {
      if (strncmp (line, want, strlen (want)) == 0)
        in = true;
      else if (in && strncmp (line, field, strlen (field)) == 0)
        {
          v = strtol (line + strlen (field), NULL, 10);
          break;
        }
    }
  fclose (f);
  return v;
}

/* a 256 KiB file of known bytes, mapped privately */
static char *
map_file (int prot, size_t len)
{
  char path[] = "/tmp/nook-test-settle.XXXXXX";
  int fd = mkstemp (path);
  assert_true (fd >= 0);
  unlink (path);
  char block[4096];
  memset (block, 'n', sizeof block);
  for (size_t i = 0; i < len; i += sizeof block)
    assert_int_equal (write (fd, block, sizeof block), (ssize_t)sizeof block);
  char *p = mmap (NULL, len, prot, MAP_PRIVATE, fd, 0);
  assert_true (p != MAP_FAILED);
  close (fd);
  return p;
}

static void
test_file_pages_dropped (void **state)
{
  size_t len = 256 * 1024;
  char *p = map_file (PROT_READ, len);
  long sum = 0;
  for (size_t i = 0; i < len; i += 4096)
    sum += p[i];
  assert_int_equal (sum, 'n' * (long)(len / 4096));
  assert_int_equal (mapping_kb (p, "Rss:"), 256);
  mem_settle ();
  assert_int_equal (mapping_kb (p, "Rss:"), 0);
  /* a later use maps them again, from the file */
  assert_int_equal (p[4096 * 3], 'n');
  munmap (p, len);
}

static void
test_private_pages_kept (void **state)
{
  /* as a relocated GOT: written, then made read-only */
  size_t len = 64 * 1024;
  char *p = map_file (PROT_READ | PROT_WRITE, len);
  p[0] = 'X';
  p[8192] = 'Y';
  assert_int_equal (mprotect (p, len, PROT_READ), 0);
  assert_true (mapping_kb (p, "Anonymous:") > 0);
  mem_settle ();
  assert_int_equal (p[0], 'X');
  assert_int_equal (p[8192], 'Y');
  munmap (p, len);
}

static void
test_heap_and_stack_kept (void **state)
{
  char *live = malloc (100000);
  assert_non_null (live);
  memset (live, 'h', 100000);
  char frame[20000];
  memset (frame, 's', sizeof frame);
  mem_settle ();
  for (size_t i = 0; i < 100000; i += 997)
    assert_int_equal (live[i], 'h');
  for (size_t i = 0; i < sizeof frame; i += 997)
    assert_int_equal (((volatile char *)frame)[i], 's');
  free (live);
}

static void
test_quiet_spell (void **state)
{
  struct settle_quiet q = SETTLE_QUIET_INIT (mem_settle_open ());
  assert_true (q.fd >= 0);
  /* the first wait: no longer than the spell; a longer timeout is cut, a shorter kept */
  int t = settle_quiet_timeout (&q, -1);
  assert_true (t >= 0 && t <= SETTLE_QUIET_MS);
  assert_int_equal (settle_quiet_timeout (&q, 5), 5);
  /* woken: no settling, the spell starts again */
  settle_quiet_after (&q, 1);
  assert_false (q.settled);
  /* a spell that is over (set back rather than waited for): the timeout is 0, and
   * a timed-out wait settles, through the fd opened beforehand */
  size_t len = 128 * 1024;
  char *p = map_file (PROT_READ, len);
  for (size_t i = 0; i < len; i += 4096)
    (void)((volatile char *)p)[i];
  assert_int_equal (mapping_kb (p, "Rss:"), 128);
  q.since_ms -= 2 * SETTLE_QUIET_MS;
  assert_int_equal (settle_quiet_timeout (&q, -1), 0);
  settle_quiet_after (&q, 0);
  assert_true (q.settled);
  assert_int_equal (mapping_kb (p, "Rss:"), 0);
  /* settled: the wait is the loop's own again, until it is woken */
  assert_int_equal (settle_quiet_timeout (&q, -1), -1);
  assert_int_equal (settle_quiet_timeout (&q, 30000), 30000);
  settle_quiet_after (&q, 1);
  assert_false (q.settled);
  t = settle_quiet_timeout (&q, -1);
  assert_true (t > 0 && t <= SETTLE_QUIET_MS);
  munmap (p, len);
  close (q.fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_file_pages_dropped),
    cmocka_unit_test (test_private_pages_kept),
    cmocka_unit_test (test_heap_and_stack_kept),
    cmocka_unit_test (test_quiet_spell),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
