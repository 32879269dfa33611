/*
 * text: what keylock shows people and scripts of strings it does not
 * control (keys, host names, notes): one rule for terminals, one for
 * JSON, used by every printer and message.
 */
#ifndef KEYLOCK_TEXT_H
#define KEYLOCK_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* c, or '?' for a byte that is a control character (C0 but tab, DEL)
   or may be one (0x80..0x9f, C1 in 8-bit terminals). */
int	 text_printable_byte(int c);
/* Copies s into buf as people may see it, truncated to at most len - 1
   bytes and never inside a UTF-8 sequence: well-formed UTF-8 as is,
   each control character (C0 but tab, DEL, C1 whether as a byte or as
   UTF-8) and each byte of malformed UTF-8 as '?'; returns buf. */
const char *text_printable(const char *s, char *buf, size_t len);
/* Writes all of s to fp as text_printable() would. */
void	 text_fputs(const char *s, FILE *fp);
/* Writes s to fp as a JSON string with its quotes: always valid UTF-8,
   each byte that is not part of a well-formed sequence as U+FFFD, and
   control characters as \u00XX. */
void	 text_json_fputs(const char *s, FILE *fp);
/* The length of the well-formed UTF-8 sequence (RFC 3629) at the
   NUL-terminated p, or 0 if there is none. */
size_t	 text_utf8_len(const unsigned char *p);
/* Writes ms as "850ms", "3.2s", "4m10s" or "2h05m" into buf, cut (never
   rounded up) to the last unit shown, so 59999 is "59.9s"; a negative ms
   shows as 0ms. */
void	 text_duration(int64_t ms, char *buf, size_t len);
/* Writes n as an English ordinal ("1st", "22nd", "13th") into buf. */
void	 text_ordinal(unsigned long n, char *buf, size_t len);

#endif
