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

/* The kernel's classic BPF, for the instructions seccomp accepts, on d: the program's
 * return value.  A program that reads outside seccomp_data, jumps out of itself or
 * runs off its end returns SECCOMP_RET_KILL_PROCESS (the kernel refuses to load such). */
uint32_t sandbox_bpf_run (const struct sock_filter *p, size_t n, const struct seccomp_data *d);

/* Whether a and b return the same for every architecture the programs compare with
 * (and one they do not), every system call number (one of each range between the
 * constants they compare with) and, where either reads an argument, argument values
 * made of the constants they compare with (each word alone, then in pairs).  Programs
 * made of other instructions than libseccomp's (above), or that test nr or arch in
 * ways ranges cannot show: false (the check cannot tell). */
bool sandbox_bpf_same (const struct sock_filter *a, size_t na, const struct sock_filter *b,
                       size_t nb);

#endif
