/* util/util.h: strings, string vectors and number parsing. */
#ifndef NOOK_UTIL_UTIL_H
#define NOOK_UTIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/xalloc.h"

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
void strv_free (char **v);
char **strv_dup (char *const *v);
/* Append a copy of s; *v may be NULL. */
void strv_push (char ***v, const char *s);
/* Append s itself (ownership passes to the vector). */
void strv_push_take (char ***v, char *s);
bool strv_contains (char *const *v, const char *s);

/* Iterate the lines of a text: returns a copy of the line at *cursor (without
 * its '\n') and moves *cursor past it; NULL once the text is used up. */
char *str_next_line (const char **cursor);

bool str_has_prefix (const char *s, const char *prefix);
bool str_has_suffix (const char *s, const char *suffix);

/* Parse a whole decimal string into [min, max]; -1 with *err (naming `what`) otherwise. */
int parse_uint (const char *s, uint64_t max, uint64_t *out, const char *what, nook_error_t *err);
int parse_int (const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
               nook_error_t *err);

/* A growable string buffer. */
struct strbuf
{
  char *buf;
  size_t len, cap;
};
void strbuf_append (struct strbuf *b, const char *s);
void strbuf_appendn (struct strbuf *b, const char *s, size_t n);
void strbuf_appendc (struct strbuf *b, char c);
void strbuf_appendf (struct strbuf *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Return the buffer (never NULL) and reset b. */
char *strbuf_steal (struct strbuf *b);
void strbuf_free (struct strbuf *b);

/* 32 random bytes in lowercase hex (64 characters): a new container, network or
 * anonymous volume's ID. */
char *random_hex_id (void);

/* The wall clock (CLOCK_REALTIME) in nanoseconds since the epoch: records' and logs' times. */
int64_t realtime_ns (void);

#endif
