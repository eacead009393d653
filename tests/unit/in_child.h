/* tests/unit/in_child.h: run a check that changes its process (namespaces, seccomp
 * filters) in a forked child; its exit status is the check's result (the test fails when
 * the child did not exit).  Include after <cmocka.h>. */
#ifndef NOOK_TESTS_UNIT_IN_CHILD_H
#define NOOK_TESTS_UNIT_IN_CHILD_H

#include <sys/wait.h>
#include <unistd.h>

static int
in_child (int (*check) (void))
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (check ());
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  return WEXITSTATUS (st);
}

#endif
