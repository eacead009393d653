/* tests/fuzz/fuzz_seccomp_compact.c: the seccomp program compactor and its check
 * (sandbox/seccomp_compact.c) on arbitrary BPF: no crash, and a program it returns is
 * loadable, as its input was, and gives the same results as its input on seccomp_data
 * made of the input's constants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/seccomp_compact.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_INSNS 48 /* (the check's work grows with the constants' count) */

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  size_t n = size / sizeof (struct sock_filter);
  if (n == 0 || n > MAX_INSNS)
    return 0;
  struct sock_filter *in = malloc (n * sizeof *in);
  memcpy (in, data, n * sizeof *in);
  (void)sandbox_bpf_same (in, n, in, n);
  size_t m = 0;
  struct sock_filter *out = sandbox_seccomp_compact (in, n, &m);
  if (out)
    {
      if (m == 0 || m >= n || !sandbox_bpf_loadable (out, m) || !sandbox_bpf_loadable (in, n))
        abort ();
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
          {
            struct seccomp_data d = { .nr = (int)in[i].k, .arch = in[j].k };
            for (int a = 0; a < 6; a++)
              d.args[a] = in[(i + j + (size_t)a) % n].k;
            if (sandbox_bpf_run (in, n, &d) != sandbox_bpf_run (out, m, &d))
              abort ();
          }
      free (out);
    }
  free (in);
  return 0;
}
