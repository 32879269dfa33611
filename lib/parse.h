/*
 * parse: strict parsers of the numbers a user types, DURATION, SIZE and
 * plain integers, and of the decimal fields of records keylock reads
 * back.  Each accepts the whole string or nothing.
 */
#ifndef KEYLOCK_PARSE_H
#define KEYLOCK_PARSE_H

#include <stdint.h>

/*
 * Parses "1.5s", "500ms", "10m", "2h", "1d" or a bare number of seconds
 * into milliseconds.  Returns 0, or -1 for anything else (empty, negative,
 * trailing junk, hex, exponents, overflow).
 */
int	parse_duration(const char *s, int64_t *ms);
/* Parses "64M", "512K", "1G", "100" (bytes; K, M, G are powers of 1024)
   into bytes, at most 9e18: a whole number exactly, a fraction ("1.5M")
   to the nearest byte; 0 or -1. */
int	parse_size(const char *s, uint64_t *bytes);
/* Parses a whole decimal number of digits only (no sign, no blanks) in
   [min, max]; 0 or -1. */
int	parse_int(const char *s, long min, long max, long *out);
/* Parses a whole decimal number of digits only (no sign, no blanks) in
   [0, max]; 0 or -1. */
int	parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
