/* sandbox/seccomp_compact.c: see seccomp_compact.h.
 *
 * The input is evaluated partially: for a given architecture and system call number,
 * A holds a known value as long as it was loaded from seccomp_data's arch or nr (or
 * is the initial 0), so comparisons on it are decided and vanish; a load of anything
 * else (an argument, the instruction pointer) makes A unknown, and the instructions
 * from there on are kept.  What remains for one (arch, nr) is a small graph (a RET,
 * or an argument check ending in RETs), built of hash-consed nodes, so that equal
 * remainders are one node.  The numbers between two consecutive constants of the
 * program take the same paths, so one number of each range is evaluated; adjacent
 * ranges with the same node are merged, and a binary search on nr (JGE) leads to each.
 * The graph is laid out from its end (BPF jumps only forward), with a JA where a
 * conditional jump's 8-bit offset cannot reach, and a RET repeated rather than reached
 * from afar. */
#include "sandbox/seccomp_compact.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define OP_LD (BPF_LD | BPF_W | BPF_ABS)
#define OP_AND (BPF_ALU | BPF_AND | BPF_K)
#define OP_JA (BPF_JMP | BPF_JA)
#define OP_JEQ (BPF_JMP | BPF_JEQ | BPF_K)
#define OP_JGT (BPF_JMP | BPF_JGT | BPF_K)
#define OP_JGE (BPF_JMP | BPF_JGE | BPF_K)
#define OP_JSET (BPF_JMP | BPF_JSET | BPF_K)
#define OP_RET (BPF_RET | BPF_K)

#define PAIR_CONSTANTS 24 /* see same_with_args */

#define OFF_NR 0u   /* offsetof (struct seccomp_data, nr) */
#define OFF_ARCH 4u /* offsetof (struct seccomp_data, arch) */

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static bool
has (const uint32_t *v, size_t n, uint32_t k)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == k)
      return true;
  return false;
}

static void
add (uint32_t **v, size_t *n, size_t *cap, uint32_t k)
{
  if (has (*v, *n, k))
    return;
  if (*n == *cap)
    {
      *cap = *cap ? 2 * *cap : 64;
      *v = xreallocarray (*v, *cap, sizeof **v);
    }
  (*v)[(*n)++] = k;
}

/* A value that no instruction of either program holds as its constant. */
static uint32_t
unused_constant (const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb)
{
  for (uint32_t v = 0xdeadbeefu;; v++)
    {
      bool used = false;
      for (size_t i = 0; i < na && !used; i++)
        used = a[i].k == v;
      for (size_t i = 0; i < nb && !used; i++)
        used = b[i].k == v;
      if (!used)
        return v;
    }
}

/* ---- the interpreter ---- */

/* Where the value in A (or X) came from, for sandbox_bpf_same's choice of inputs. */
enum origin
{
  FROM_NONE,
  FROM_NR,
  FROM_ARCH,
  FROM_OTHER, /* an argument or the instruction pointer */
};

/* The constants a run compared with values of the instruction pointer or the
 * arguments (sandbox_bpf_same's argument values are made of them). */
struct observed
{
  uint32_t *k;
  size_t n, cap;
};

static bool
compare (uint16_t op, uint32_t a, uint32_t b)
{
  switch (BPF_OP (op))
    {
    case BPF_JEQ:
      return a == b;
    case BPF_JGT:
      return a > b;
    case BPF_JGE:
      return a >= b;
    default: /* BPF_JSET */
      return (a & b) != 0;
    }
}

static uint32_t
run (const struct sock_filter *p, size_t n, const struct seccomp_data *d, struct observed *o)
{
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
  enum origin af = FROM_NONE, xf = FROM_NONE, mf[BPF_MEMWORDS] = { 0 };
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct sock_filter *i = &p[pc];
      uint32_t k = i->k;
      switch (BPF_CLASS (i->code))
        {
        case BPF_LD:
        case BPF_LDX:
          {
            uint32_t v;
            enum origin f = FROM_NONE;
            switch (BPF_MODE (i->code))
              {
              case BPF_ABS:
                if (BPF_SIZE (i->code) != BPF_W || k % 4 != 0 || k > sizeof *d - 4)
                  return SECCOMP_RET_KILL_PROCESS;
                memcpy (&v, (const char *)d + k, 4);
                f = k == OFF_NR ? FROM_NR : k == OFF_ARCH ? FROM_ARCH : FROM_OTHER;
                break;
              case BPF_IMM:
                v = k;
                break;
              case BPF_MEM:
                if (k >= BPF_MEMWORDS)
                  return SECCOMP_RET_KILL_PROCESS;
                v = mem[k];
                f = mf[k];
                break;
              case BPF_LEN:
                v = sizeof *d;
                break;
              default:
                return SECCOMP_RET_KILL_PROCESS;
              }
            if (BPF_CLASS (i->code) == BPF_LD)
              a = v, af = f;
            else
              x = v, xf = f;
            break;
          }
        case BPF_ST:
        case BPF_STX:
          if (k >= BPF_MEMWORDS)
            return SECCOMP_RET_KILL_PROCESS;
          mem[k] = BPF_CLASS (i->code) == BPF_ST ? a : x;
          mf[k] = BPF_CLASS (i->code) == BPF_ST ? af : xf;
          break;
        case BPF_ALU:
          {
            uint32_t b = BPF_SRC (i->code) == BPF_X ? x : k;
            switch (BPF_OP (i->code))
              {
              case BPF_ADD:
                a += b;
                break;
              case BPF_SUB:
                a -= b;
                break;
              case BPF_MUL:
                a *= b;
                break;
              case BPF_DIV:
                if (b == 0)
                  return 0; /* (the kernel's: the program ends, returning 0) */
                a /= b;
                break;
              case BPF_MOD:
                if (b == 0)
                  return 0;
                a %= b;
                break;
              case BPF_OR:
                a |= b;
                break;
              case BPF_AND:
                a &= b;
                break;
              case BPF_XOR:
                a ^= b;
                break;
              case BPF_LSH: /* (a constant >= 32 is refused at load: bpf_loadable) */
                a <<= b & 31;
                break;
              case BPF_RSH:
                a >>= b & 31;
                break;
              case BPF_NEG:
                a = -a;
                break;
              default:
                return SECCOMP_RET_KILL_PROCESS;
              }
            break;
          }
        case BPF_MISC:
          if (BPF_MISCOP (i->code) == BPF_TAX)
            x = a, xf = af;
          else
            a = x, af = xf;
          break;
        case BPF_JMP:
          {
            if (BPF_OP (i->code) == BPF_JA)
              {
                if (k >= n - pc - 1)
                  return SECCOMP_RET_KILL_PROCESS;
                pc += k;
                break;
              }
            uint32_t b = BPF_SRC (i->code) == BPF_X ? x : k;
            if (o && BPF_SRC (i->code) == BPF_K && af == FROM_OTHER)
              add (&o->k, &o->n, &o->cap, k);
            size_t off = compare (i->code, a, b) ? i->jt : i->jf;
            if (off >= n - pc - 1)
              return SECCOMP_RET_KILL_PROCESS;
            pc += off;
            break;
          }
        case BPF_RET:
          return BPF_RVAL (i->code) == BPF_A ? a : k;
        default:
          return SECCOMP_RET_KILL_PROCESS;
        }
    }
  return SECCOMP_RET_KILL_PROCESS;
}

/* ---- what the kernel loads ---- */

/* Whether seccomp(2) would load p (seccomp_compact.h): the instructions seccomp_check_filter
 * accepts, with bpf_check_classic's rules (both ways of every jump inside the program, no division
 * by a constant 0 nor shift by a constant >= 32, loads of seccomp_data aligned and
 * inside it, scratch memory read only where every path stored it, a RET last). */
bool
sandbox_bpf_loadable (const struct sock_filter *p, size_t n)
{
  if (n == 0 || n > BPF_MAXINSNS || BPF_CLASS (p[n - 1].code) != BPF_RET)
    return false;
  uint16_t *valid = xreallocarray (NULL, n, sizeof *valid); /* scratch words stored */
  for (size_t i = 0; i < n; i++)
    valid[i] = UINT16_MAX;
  uint16_t memvalid = 0;
  bool ok = true;
  for (size_t pc = 0; pc < n && ok; pc++)
    {
      const struct sock_filter *i = &p[pc];
      uint32_t k = i->k;
      memvalid &= valid[pc];
      switch (i->code)
        {
        case BPF_LD | BPF_W | BPF_ABS:
          ok = k % 4 == 0 && k <= sizeof (struct seccomp_data) - 4;
          break;
        case BPF_LD | BPF_W | BPF_LEN:
        case BPF_LDX | BPF_W | BPF_LEN:
        case BPF_LD | BPF_IMM:
        case BPF_LDX | BPF_IMM:
        case BPF_MISC | BPF_TAX:
        case BPF_MISC | BPF_TXA:
        case BPF_RET | BPF_K:
        case BPF_RET | BPF_A:
        case BPF_ALU | BPF_NEG:
          break;
        case BPF_LD | BPF_MEM:
        case BPF_LDX | BPF_MEM:
          ok = k < BPF_MEMWORDS && (memvalid & (1u << k));
          break;
        case BPF_ST:
        case BPF_STX:
          ok = k < BPF_MEMWORDS;
          if (ok)
            memvalid |= (uint16_t)(1u << k);
          break;
        case BPF_ALU | BPF_ADD | BPF_K:
        case BPF_ALU | BPF_ADD | BPF_X:
        case BPF_ALU | BPF_SUB | BPF_K:
        case BPF_ALU | BPF_SUB | BPF_X:
        case BPF_ALU | BPF_MUL | BPF_K:
        case BPF_ALU | BPF_MUL | BPF_X:
        case BPF_ALU | BPF_DIV | BPF_X:
        case BPF_ALU | BPF_AND | BPF_K:
        case BPF_ALU | BPF_AND | BPF_X:
        case BPF_ALU | BPF_OR | BPF_K:
        case BPF_ALU | BPF_OR | BPF_X:
        case BPF_ALU | BPF_XOR | BPF_K:
        case BPF_ALU | BPF_XOR | BPF_X:
        case BPF_ALU | BPF_LSH | BPF_X:
        case BPF_ALU | BPF_RSH | BPF_X:
          break;
        case BPF_ALU | BPF_DIV | BPF_K:
          ok = k != 0;
          break;
        case BPF_ALU | BPF_LSH | BPF_K:
        case BPF_ALU | BPF_RSH | BPF_K:
          ok = k < 32;
          break;
        case BPF_JMP | BPF_JA:
          ok = k < n - pc - 1;
          if (ok)
            valid[pc + 1 + k] &= memvalid;
          memvalid = UINT16_MAX;
          break;
        case BPF_JMP | BPF_JEQ | BPF_K:
        case BPF_JMP | BPF_JEQ | BPF_X:
        case BPF_JMP | BPF_JGT | BPF_K:
        case BPF_JMP | BPF_JGT | BPF_X:
        case BPF_JMP | BPF_JGE | BPF_K:
        case BPF_JMP | BPF_JGE | BPF_X:
        case BPF_JMP | BPF_JSET | BPF_K:
        case BPF_JMP | BPF_JSET | BPF_X:
          ok = i->jt < n - pc - 1 && i->jf < n - pc - 1;
          if (ok)
            {
              valid[pc + 1 + i->jt] &= memvalid;
              valid[pc + 1 + i->jf] &= memvalid;
            }
          memvalid = UINT16_MAX;
          break;
        default:
          ok = false;
        }
    }
  free (valid);
  return ok;
}

uint32_t
sandbox_bpf_run (const struct sock_filter *p, size_t n, const struct seccomp_data *d)
{
  return run (p, n, d, NULL);
}

/* ---- the partial evaluation (the compactor's, and the check's) ---- */

struct node
{
  uint16_t code;
  uint32_t k;
  int t, f; /* successors: the next (LD, AND) or the jump's targets; -1 */
};

struct compactor
{
  const struct sock_filter *in;
  size_t n;
  struct node *nodes;
  size_t n_nodes, cap_nodes;
  int *table; /* hash of the nodes: index + 1, 0 empty */
  size_t table_size;
  int *memo; /* per instruction, entered with A unknown: the node (this generation's) */
  unsigned *memo_gen, gen;
  uint32_t arch, nr; /* the seccomp_data evaluated */
  bool bad;
};

static size_t
node_hash (uint16_t code, uint32_t k, int t, int f)
{
  uint64_t h = ((uint64_t)code << 48) ^ ((uint64_t)k << 16) ^ ((uint64_t)(uint32_t)t * 0x9e3779b1u)
               ^ ((uint64_t)(uint32_t)f * 0x85ebca77u);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return (size_t)(h ^ (h >> 32));
}

static void
table_put (struct compactor *c, int id)
{
  const struct node *nd = &c->nodes[id];
  size_t i = node_hash (nd->code, nd->k, nd->t, nd->f) & (c->table_size - 1);
  while (c->table[i])
    i = (i + 1) & (c->table_size - 1);
  c->table[i] = id + 1;
}

/* The node (code, k, t, f), made if new. */
static int
cons (struct compactor *c, uint16_t code, uint32_t k, int t, int f)
{
  if (c->bad || (code != OP_RET && t < 0) || (BPF_CLASS (code) == BPF_JMP && f < 0))
    {
      c->bad = true;
      return -1;
    }
  if (BPF_CLASS (code) == BPF_JMP && t == f)
    return t; /* (both ways lead to the same) */
  size_t i = node_hash (code, k, t, f) & (c->table_size - 1);
  for (; c->table[i]; i = (i + 1) & (c->table_size - 1))
    {
      const struct node *nd = &c->nodes[c->table[i] - 1];
      if (nd->code == code && nd->k == k && nd->t == t && nd->f == f)
        return c->table[i] - 1;
    }
  if (c->n_nodes == c->cap_nodes)
    {
      c->cap_nodes = c->cap_nodes ? 2 * c->cap_nodes : 256;
      c->nodes = xreallocarray (c->nodes, c->cap_nodes, sizeof *c->nodes);
    }
  int id = (int)c->n_nodes++;
  c->nodes[id] = (struct node){ .code = code, .k = k, .t = t, .f = f };
  if (2 * c->n_nodes > c->table_size)
    {
      free (c->table);
      c->table_size *= 2;
      c->table = xzalloc (c->table_size * sizeof *c->table);
      for (int j = 0; j < (int)c->n_nodes; j++)
        table_put (c, j);
    }
  else
    c->table[i] = id + 1;
  return id;
}

static int
fail (struct compactor *c)
{
  c->bad = true;
  return -1;
}

/* A, as far as the evaluation knows it. */
struct aval
{
  bool known;
  uint32_t v;
};

static int walk (struct compactor *c, size_t pc, struct aval a);

static int
walk_unknown (struct compactor *c, size_t pc)
{
  if (pc < c->n && c->memo_gen[pc] == c->gen)
    return c->memo[pc];
  int id = walk (c, pc, (struct aval){ .known = false });
  if (pc < c->n)
    {
      c->memo_gen[pc] = c->gen;
      c->memo[pc] = id;
    }
  return id;
}

/* What the program does from pc on, for c->arch and c->nr, with A as given: a node.
 * The program is loadable and of libseccomp's instructions (sandbox_bpf_loadable,
 * libseccomp_shaped), and nr and arch are compared only as static_constants allows,
 * so the same node stands for every number of the range nr is in.  (Jumps go forward
 * only: the recursion ends.) */
static int
walk (struct compactor *c, size_t pc, struct aval a)
{
  for (;;)
    {
      if (c->bad || pc >= c->n)
        return fail (c);
      const struct sock_filter *i = &c->in[pc];
      switch (i->code)
        {
        case OP_LD:
          if (i->k == OFF_NR || i->k == OFF_ARCH)
            {
              a = (struct aval){ .known = true, .v = i->k == OFF_NR ? c->nr : c->arch };
              pc++;
              continue;
            }
          return cons (c, OP_LD, i->k, walk_unknown (c, pc + 1), -1);
        case OP_AND:
          if (!a.known)
            return cons (c, OP_AND, i->k, walk_unknown (c, pc + 1), -1);
          a.v &= i->k;
          pc++;
          continue;
        case OP_JA:
          pc += 1 + i->k;
          continue;
        case OP_JEQ:
        case OP_JGT:
        case OP_JGE:
        case OP_JSET:
          {
            if (!a.known)
              {
                int t = walk_unknown (c, pc + 1 + i->jt);
                int f = walk_unknown (c, pc + 1 + i->jf);
                return cons (c, i->code, i->k, t, f);
              }
            pc += 1 + (compare (i->code, a.v, i->k) ? i->jt : i->jf);
            continue;
          }
        case OP_RET:
          return cons (c, OP_RET, i->k, -1, -1);
        default:
          return fail (c);
        }
    }
}

static void
compactor_init (struct compactor *c, size_t n)
{
  *c = (struct compactor){ .n = n, .table_size = 1024 };
  c->table = xzalloc (c->table_size * sizeof *c->table);
  c->memo = xzalloc (n * sizeof *c->memo);
  c->memo_gen = xzalloc (n * sizeof *c->memo_gen);
}

static void
compactor_free (struct compactor *c)
{
  free (c->nodes);
  free (c->table);
  free (c->memo);
  free (c->memo_gen);
}

/* The node for (arch, nr), from the program's start. */
static int
evaluate (struct compactor *c, uint32_t arch, uint32_t nr)
{
  c->arch = arch;
  c->nr = nr;
  if (++c->gen == 0)
    {
      memset (c->memo_gen, 0, c->n * sizeof *c->memo_gen);
      c->gen = 1;
    }
  return walk (c, 0, (struct aval){ .known = true, .v = 0 });
}

/* ---- the check ---- */

/* Whether p uses only what libseccomp emits (the check's reasoning holds for these:
 * no X, no scratch memory, no arithmetic but AND). */
static bool
libseccomp_shaped (const struct sock_filter *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    switch (p[i].code)
      {
      case OP_LD:
      case OP_AND:
      case OP_JA:
      case OP_JEQ:
      case OP_JGT:
      case OP_JGE:
      case OP_JSET:
      case OP_RET:
        break;
      default:
        return false;
      }
  return true;
}

/* A pass over p (a loadable, libseccomp-shaped program; jumps go forward): where A
 * may hold nr or arch, the constants compared with it: the architectures (equality
 * only) and the first numbers of the ranges (k and k + 1); false for what ranges
 * cannot show (nr tested by bits, nr or arch changed by AND, arch ordered). */
static bool
static_constants (const struct sock_filter *p, size_t n, uint32_t **arches, size_t *n_arches,
                  size_t *cap_arches, uint32_t **nrs, size_t *n_nrs, size_t *cap_nrs)
{
  enum
  {
    NONE = 1 << FROM_NONE,
    NR = 1 << FROM_NR,
    ARCH = 1 << FROM_ARCH,
    OTHER = 1 << FROM_OTHER,
  };
  uint8_t *from = xzalloc (n); /* the origins A may have at each instruction (0: unreached) */
  from[0] = NONE;
  bool ok = true;
  for (size_t pc = 0; pc < n && ok; pc++)
    {
      const struct sock_filter *i = &p[pc];
      uint8_t o = from[pc];
      if (o == 0)
        continue;
      switch (i->code)
        {
        case OP_LD:
          from[pc + 1] |= i->k == OFF_NR ? NR : i->k == OFF_ARCH ? ARCH : OTHER;
          break;
        case OP_AND:
          ok = !(o & (NR | ARCH));
          from[pc + 1] |= o;
          break;
        case OP_JA:
          from[pc + 1 + i->k] |= o;
          break;
        case OP_RET:
          break;
        default: /* the conditional jumps */
          if (o & NR)
            {
              ok = i->code != OP_JSET;
              add (nrs, n_nrs, cap_nrs, i->k);
              if (i->k != UINT32_MAX)
                add (nrs, n_nrs, cap_nrs, i->k + 1);
            }
          if (o & ARCH)
            {
              ok = ok && i->code == OP_JEQ;
              add (arches, n_arches, cap_arches, i->k);
            }
          from[pc + 1 + i->jt] |= o;
          from[pc + 1 + i->jf] |= o;
        }
    }
  free (from);
  return ok;
}

static bool
same_on (const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb,
         const struct seccomp_data *d, struct observed *o)
{
  return run (a, na, d, o) == run (b, nb, d, o);
}

/* seccomp_data's 32-bit words after nr and arch: the instruction pointer's two, then
 * the arguments' (low and high halves) */
#define WORDS ((sizeof (struct seccomp_data) - 8) / 4)

static void
set_word (struct seccomp_data *d, size_t w, uint32_t v)
{
  memcpy ((char *)d + 8 + 4 * w, &v, sizeof v);
}

/* For a call whose instruction pointer or arguments are looked at: those words set to
 * the constants they are compared with (and the values next to them), each word
 * alone, then two at a time, the constants found growing as deeper checks are
 * reached.  A sample: the argument checks are also compared node for node
 * (sandbox_bpf_same). */
static bool
same_with_args (const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb,
                const struct seccomp_data *d, struct observed *o)
{
  bool same = true;
  for (size_t w = 0; same && w < WORDS; w++)
    for (size_t i = 0; same && i < o->n; i++)
      for (uint32_t delta = UINT32_MAX; same && delta != 2; delta++)
        {
          struct seccomp_data e = *d;
          set_word (&e, w, o->k[i] + delta);
          same = same_on (a, na, b, nb, &e, o);
        }
  /* (pairs of the first PAIR_CONSTANTS: a long list of allowed ioctl requests would
   * take seconds) */
  for (size_t w1 = 0; same && w1 < WORDS; w1++)
    for (size_t w2 = w1 + 1; same && w2 < WORDS; w2++)
      for (size_t i = 0; same && i < o->n && i < PAIR_CONSTANTS; i++)
        for (size_t j = 0; same && j < o->n && j < PAIR_CONSTANTS; j++)
          {
            struct seccomp_data e = *d;
            set_word (&e, w1, o->k[i]);
            set_word (&e, w2, o->k[j]);
            same = same_on (a, na, b, nb, &e, o);
          }
  return same;
}

/* Both programs are loadable and of libseccomp's instructions.  The architectures: each
 * constant either compares arch with (a pass over each program), and one that no
 * instruction names; the numbers: 0 and each constant either compares nr with, and the
 * one after (any other architecture takes the path of the unnamed one, any other
 * number the path of the largest of these below it).  For each pair: both programs
 * evaluated as the compactor does, with arch and nr known, give the same node (the
 * same remaining instructions, argument checks included, node for node); and the
 * interpreter gives the same result for both, with the arguments zero and, where they
 * are looked at, with values made of the constants they are compared with. */
bool
sandbox_bpf_same (const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb)
{
  if (!sandbox_bpf_loadable (a, na) || !sandbox_bpf_loadable (b, nb) || !libseccomp_shaped (a, na)
      || !libseccomp_shaped (b, nb))
    return false;
  uint32_t *arches = NULL, *nrs = NULL;
  size_t n_arches = 0, cap_arches = 0, n_nrs = 0, cap_nrs = 0;
  add (&arches, &n_arches, &cap_arches, unused_constant (a, na, b, nb));
  add (&nrs, &n_nrs, &cap_nrs, 0);
  bool same = static_constants (a, na, &arches, &n_arches, &cap_arches, &nrs, &n_nrs, &cap_nrs)
              && static_constants (b, nb, &arches, &n_arches, &cap_arches, &nrs, &n_nrs, &cap_nrs);
  struct compactor c;
  compactor_init (&c, na > nb ? na : nb);
  for (size_t i = 0; i < n_arches && same; i++)
    for (size_t j = 0; j < n_nrs && same; j++)
      {
        c.in = a, c.n = na;
        int node_a = evaluate (&c, arches[i], nrs[j]);
        c.in = b, c.n = nb;
        int node_b = evaluate (&c, arches[i], nrs[j]);
        same = !c.bad && node_a == node_b;
        struct seccomp_data d = { .arch = arches[i], .nr = (int)nrs[j] };
        struct observed o = { 0 };
        if (same)
          same = same_on (a, na, b, nb, &d, &o);
        if (same && o.n > 0)
          same = same_with_args (a, na, b, nb, &d, &o);
        free (o.k);
      }
  compactor_free (&c);
  free (arches);
  free (nrs);
  return same;
}

/* ---- the compactor ---- */

/* A binary search over ranges[lo..hi) (the first number of each, and its node),
 * nr in A. */
static int
search (struct compactor *c, const uint32_t *first, const int *id, size_t lo, size_t hi)
{
  if (hi - lo == 1)
    return id[lo];
  size_t mid = lo + (hi - lo) / 2;
  int right = search (c, first, id, mid, hi);
  int left = search (c, first, id, lo, mid);
  return cons (c, OP_JGE, first[mid], right, left);
}

/* The node for every number of arch: ranges with the same node merged, searched. */
static int
arch_block (struct compactor *c, uint32_t arch, const uint32_t *bounds, size_t n_bounds)
{
  uint32_t *first = xreallocarray (NULL, n_bounds, sizeof *first);
  int *id = xreallocarray (NULL, n_bounds, sizeof *id);
  size_t n = 0;
  for (size_t i = 0; i < n_bounds && !c->bad; i++)
    {
      int node = evaluate (c, arch, bounds[i]);
      if (n > 0 && id[n - 1] == node)
        continue;
      first[n] = bounds[i];
      id[n++] = node;
    }
  int block = c->bad   ? -1
              : n == 1 ? id[0]
                       : cons (c, OP_LD, OFF_NR, search (c, first, id, 0, n), -1);
  free (first);
  free (id);
  return block;
}

/* ---- layout ---- */

struct layout
{
  struct sock_filter *rev; /* the program from its end */
  size_t len, cap;
  long *at; /* per node: its index in rev, -1 before it is laid out */
};

static size_t
push (struct layout *l, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
  if (l->len == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 512;
      l->rev = xreallocarray (l->rev, l->cap, sizeof *l->rev);
    }
  l->rev[l->len] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
  return l->len++;
}

static size_t lay (struct compactor *c, struct layout *l, int id);

/* An index a conditional jump about to be laid out (after at most `more` other
 * instructions) reaches with its 8-bit offset: node id's, or a RET repeated, or a JA to it. */
static size_t
near (struct compactor *c, struct layout *l, int id, size_t more)
{
  size_t at = lay (c, l, id);
  if (l->len + more - at - 1 <= 255)
    return at;
  const struct node *nd = &c->nodes[id];
  if (nd->code == OP_RET)
    return (size_t)(l->at[id] = (long)push (l, OP_RET, 0, 0, nd->k));
  return push (l, OP_JA, 0, 0, (uint32_t)(l->len - at - 1));
}

/* Lay node id out (and what it leads to, first): its index in rev. */
static size_t
lay (struct compactor *c, struct layout *l, int id)
{
  if (l->at[id] >= 0)
    return (size_t)l->at[id];
  const struct node nd = c->nodes[id];
  size_t at;
  if (nd.code == OP_RET)
    at = push (l, OP_RET, 0, 0, nd.k);
  else if (nd.code == OP_LD || nd.code == OP_AND)
    {
      size_t next = lay (c, l, nd.t);
      if (next != l->len - 1)
        push (l, OP_JA, 0, 0, (uint32_t)(l->len - next - 1));
      at = push (l, nd.code, 0, 0, nd.k);
    }
  else
    {
      /* (the false branch laid out last: usually reached by falling through) */
      size_t t = near (c, l, nd.t, 2);
      size_t f = near (c, l, nd.f, 1);
      /* (t was near for up to two more instructions, one of which f may have taken) */
      if (l->len - t - 1 > 255)
        t = push (l, OP_JA, 0, 0, (uint32_t)(l->len - t - 1));
      at = push (l, nd.code, (uint8_t)(l->len - t - 1), (uint8_t)(l->len - f - 1), nd.k);
    }
  l->at[id] = (long)at;
  return at;
}

struct sock_filter *
sandbox_seccomp_compact (const struct sock_filter *in, size_t n, size_t *out_n)
{
  /* the architectures compared with, the first numbers of the ranges (a pass over
   * the program, as sandbox_bpf_same makes) */
  uint32_t *arches = NULL, *bounds = NULL;
  size_t n_arches = 0, cap_arches = 0, n_bounds = 0, cap_bounds = 0;
  add (&bounds, &n_bounds, &cap_bounds, 0);
  if (!sandbox_bpf_loadable (in, n) || !libseccomp_shaped (in, n)
      || !static_constants (in, n, &arches, &n_arches, &cap_arches, &bounds, &n_bounds,
                            &cap_bounds))
    {
      free (arches);
      free (bounds);
      return NULL;
    }
  qsort (bounds, n_bounds, sizeof *bounds, cmp_u32);
  struct compactor c;
  compactor_init (&c, n);
  c.in = in;

  /* one block a architecture; any other one takes the paths of one no instruction
   * names */
  int other_block = arch_block (&c, unused_constant (in, n, NULL, 0), bounds, n_bounds);
  int *blocks = xreallocarray (NULL, n_arches + 1, sizeof *blocks);
  for (size_t i = 0; i < n_arches && !c.bad; i++)
    blocks[i] = arch_block (&c, arches[i], bounds, n_bounds);
  int root = other_block;
  for (size_t i = n_arches; i-- > 0 && !c.bad;)
    if (blocks[i] != other_block)
      root = cons (&c, OP_JEQ, arches[i], blocks[i], root);
  if (root != other_block)
    root = cons (&c, OP_LD, OFF_ARCH, root, -1);

  struct sock_filter *out = NULL;
  if (!c.bad)
    {
      struct layout l = { 0 };
      l.at = xreallocarray (NULL, c.n_nodes, sizeof *l.at);
      for (size_t i = 0; i < c.n_nodes; i++)
        l.at[i] = -1;
      size_t at = lay (&c, &l, root);
      if (at == l.len - 1 && l.len < n)
        {
          out = xreallocarray (NULL, l.len, sizeof *out);
          for (size_t i = 0; i < l.len; i++)
            out[i] = l.rev[l.len - 1 - i];
          *out_n = l.len;
        }
      free (l.rev);
      free (l.at);
    }
  if (out && !sandbox_bpf_same (in, n, out, *out_n))
    {
      free (out);
      out = NULL;
    }
  free (blocks);
  free (arches);
  free (bounds);
  compactor_free (&c);
  return out;
}
