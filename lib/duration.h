/*
 * duration: parsing of the DURATION and SIZE arguments.
 */
#ifndef KEYLOCK_DURATION_H
#define KEYLOCK_DURATION_H

#include <stdint.h>

/*
 * Parses "1.5s", "500ms", "10m", "2h", "1d" or a bare number of seconds
 * into milliseconds.  Returns 0, or -1 for anything else (empty, negative,
 * trailing junk, overflow).
 */
int	duration_parse(const char *s, int64_t *ms);
/* Parses "64M", "512K", "1G", "100" (bytes) into bytes; 0 or -1. */
int	duration_parse_size(const char *s, uint64_t *bytes);
/* Parses a whole number in [min, max]; 0 or -1. */
int	duration_parse_int(const char *s, long min, long max, long *out);
/* Writes ms as a short human duration ("3.2s", "4m10s") into buf. */
void	duration_format(int64_t ms, char *buf, size_t len);

#endif
