/* imagefmt/dockerfile/shell.c: Dockerfile word expansion (stub). */
#include "imagefmt/dockerfile/shell.h"

#include <errno.h>
#include <strings.h>

int
dockerfile_shell_expand_word (const char *word, char escape, char *const *env, char **out,
                              nook_error_t *err)
{
  (void) word, (void) escape, (void) env, (void) out;
  return nook_error_set (err, ENOSYS, "dockerfile word expansion not implemented yet");
}

int
dockerfile_shell_expand_words (const char *text, char escape, char *const *env, char ***out,
                               nook_error_t *err)
{
  (void) text, (void) escape, (void) env, (void) out;
  return nook_error_set (err, ENOSYS, "dockerfile word expansion not implemented yet");
}

bool
dockerfile_shell_instruction_expands (const char *keyword)
{
  (void) keyword;
  return false;
}
