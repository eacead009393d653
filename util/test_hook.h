/* util/test_hook.h: synchronisation points for tests, compiled into test builds only.
 *
 * A test that must stop nook between two steps (a run between resolving its image and
 * recording its container, to race an rmi there) names the step instead of sleeping.
 * build/nook has no hook: test_hook() is an empty inline function there.  The Makefile
 * builds build/nook-testhooks, with -DNOOK_TEST_HOOKS for util/test_hook.c and the files
 * that call test_hook(); only tests that need it run that binary.
 *
 * In a hooked binary, at point NAME, when $NOOK_TEST_HOOK_DIR is set and
 * $NOOK_TEST_HOOK_DIR/NAME.reached is a FIFO: nook opens NAME.reached for writing and
 * closes it (the test's `cat NAME.reached` returns: the point is reached), then reads
 * NAME.go to its end (the test's `: > NAME.go` lets it go on). */
#ifndef NOOK_UTIL_TEST_HOOK_H
#define NOOK_UTIL_TEST_HOOK_H

#ifdef NOOK_TEST_HOOKS
void test_hook (const char *name);
#else
static inline void
test_hook (const char *name)
{
  (void)name;
}
#endif

#endif
