/* tests/fuzz/fuzz_dockerfile_shell.c: libFuzzer target for Dockerfile word expansion.
 * Byte 0 picks the escape character and the options; the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/dockerfile/shell.h"
#include "util/cleanup.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char *const env[] = { "PWD=/home",  "SHELL=bash",   "KOREAN=한국어", "NULL=", "A=a*b?c/d",
                               "NL=x\ny\nz", "BAD=\xff\xfe", "A=abcabc",      "BARE",  NULL };
  struct dockerfile_shell_opts o = { 0 };
  struct dockerfile_shell_result res;
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *text = NULL;
  char escape;

  if (size == 0 || size > 65536)
    return 0;
  escape = (data[0] & 1) ? '`' : '\\';
  o.keep_quotes = data[0] & 2;
  o.keep_escapes = data[0] & 4;
  o.skip_quotes = data[0] & 8;
  o.skip_unset = data[0] & 16;
  text = xstrndup ((const char *)data + 1, size - 1); /* stops at a NUL */
  if (dockerfile_shell_expand (text, escape, env, &o, &res, &err) == 0)
    {
      if (res.word == NULL || res.words == NULL || res.matched == NULL || res.unmatched == NULL)
        abort ();
      for (size_t i = 0; res.words[i] != NULL; i++)
        if (res.words[i][0] == '\0')
          abort (); /* empty words are dropped */
      dockerfile_shell_result_clear (&res);
    }
  else if (err == NULL || err->msg == NULL)
    abort ();
  return 0;
}
