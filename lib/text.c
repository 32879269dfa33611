/*
 * text: strings keylock does not control, made safe for terminals and
 * JSON, and durations for people.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

/* C0 controls but tab, DEL, and the bytes of C1 controls become '?'. */
int
text_printable_byte(int c)
{
	return (c < ' ' && c != '\t') || (c >= 0x7f && c <= 0x9f) ? '?' : c;
}

/* The length of the piece at p: a character, shown as is, or (*bad
   set) a control character or a byte of malformed UTF-8, shown as '?'. */
static size_t
text_piece(const unsigned char *p, int *bad)
{
	size_t n = text_utf8_len(p);

	if (n == 0) {
		*bad = 1;
		return 1;
	}
	/* U+0080..U+009F, the C1 controls, are 0xc2 0x80..0x9f. */
	*bad = (n == 1 && text_printable_byte(*p) == '?') ||
	    (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f);
	return n;
}

const char *
text_printable(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	int bad;

	if (len == 0)
		return buf;
	for (; *p != '\0'; p += n) {
		n = text_piece(p, &bad);
		if (i + (bad ? 1 : n) >= len)
			break;		/* never half a sequence */
		if (bad)
			buf[i++] = '?';
		else {
			memcpy(buf + i, p, n);
			i += n;
		}
	}
	buf[i] = '\0';
	return buf;
}

/* NUL is never a continuation byte, so reading stops at the end. */
size_t
text_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing past U+10FFFF */
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void
text_json_fputs(const char *s, FILE *fp)
{
	const unsigned char *p;
	size_t n;

	putc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = text_utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", fp);
			n = 1;
		} else if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fwrite(p, 1, n, fp);
	}
	putc('"', fp);
}

void
text_fputs(const char *s, FILE *fp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int bad;

	for (; *p != '\0'; p += n) {
		n = text_piece(p, &bad);
		if (bad)
			putc('?', fp);
		else
			fwrite(p, 1, n, fp);
	}
}

/* Tenths are cut in integers, as the larger units are, since "%.1f"
   rounds 59950 ms up to "60.0s", a form that is not "1m00s". */
void
text_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
		    (long long)(ms / 100 % 10));
	else if (ms < 3600000)
		snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000),
		    (long long)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(ms / 3600000),
		    (long long)(ms / 60000 % 60));
}

void
text_ordinal(unsigned long n, char *buf, size_t len)
{
	static const char *const th[] = { "th", "st", "nd", "rd" };

	snprintf(buf, len, "%lu%s", n, n % 100 / 10 == 1 || n % 10 > 3 ?
	    "th" : th[n % 10]);
}
