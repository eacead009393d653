/* sandbox/seccomp_compact.h: a smaller program for the same filter.
 *
 * libseccomp compiles Docker's profile (x86_64 and i386) into ~870 instructions: one
 * comparison per system call, in a tree.  The kernel checks, converts and JIT-compiles
 * every instruction at each load (~0.16 ms here, a fifth of the time a one-CPU machine
 * spends setting a container up), and its action cache runs the filter for every
 * system call number.  Most of the profile is a few dozen ranges of numbers with one
 * action each: dispatched on those ranges, the same filter is ~300 instructions.
 *
 * The compact program is derived from libseccomp's, not from the profile: libseccomp's
 * is evaluated for each architecture and each range of numbers between the constants it
 * compares with, the argument checks left as they are (its own instructions, copied),
 * and the results dispatched by a binary search on the number.  Programs using anything
 * else than what libseccomp emits (loads of seccomp_data, AND, comparisons with
 * constants, RET of a constant) are left alone, as are those that compare the number or
 * the architecture in a way the ranges cannot show (bit tests, arithmetic). */
#ifndef NOOK_SANDBOX_SECCOMP_COMPACT_H
#define NOOK_SANDBOX_SECCOMP_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

/* A program that returns what in[0..n) returns for every seccomp_data, or NULL (in is
 * then kept: it uses what the compactor does not handle, or the result would not be
 * smaller).  Checked with sandbox_bpf_same before it is returned.  malloc'd; *out_n
 * instructions. */
struct sock_filter *sandbox_seccomp_compact (const struct sock_filter *in, size_t n, size_t *out_n);

/* Whether seccomp(2) would load p: the instructions seccomp accepts, with the
 * kernel's checks (every jump inside the program both ways, no division by a constant
 * 0 nor shift by a constant >= 32, loads aligned and inside seccomp_data, scratch
 * memory read only where every path stored it, a RET last). */
bool sandbox_bpf_loadable (const struct sock_filter *p, size_t n);

/* The kernel's classic BPF on d, for a program it loads (sandbox_bpf_loadable): the
 * program's return value.  (Of one it refuses, a way that jumps out of the program,
 * loads outside seccomp_data or runs off its end returns SECCOMP_RET_KILL_PROCESS.) */
uint32_t sandbox_bpf_run (const struct sock_filter *p, size_t n, const struct seccomp_data *d);

/* Whether a and b, both loadable, return the same: for every architecture either
 * compares arch with (and one neither names) and every range of system call numbers
 * between the constants either compares nr with (found by a pass over each program,
 * so exhaustive), the two evaluated partially as the compactor does give the same
 * remaining instructions, node for node (argument checks included), and the
 * interpreter gives the same result with the arguments zero and, where they are
 * looked at, with values made of the constants they are compared with (a sample).
 * Programs of other instructions than libseccomp's (above), or that test nr or arch
 * in ways ranges cannot show: false (the check cannot tell). */
bool sandbox_bpf_same (const struct sock_filter *a, size_t na, const struct sock_filter *b,
                       size_t nb);

#endif
