/*
 * notice: the one-line messages about a lock that others hold, written
 * into a buffer so that run prints them and acquire's keeper can hand
 * them to the caller that waits for it.
 */
#include "config.h"

#include <stdio.h>

#include "clock.h"
#include "cmd.h"

/* Writes ", 'NOTE'" for a holder with a note into buf, else "". */
static void
notice_note(const struct holder *h, char *buf, size_t len)
{
	char note[HOLDER_NOTE_MAX + 1];

	if (h == NULL || h->note[0] == '\0')
		buf[0] = '\0';
	else
		snprintf(buf, len, ", '%s'", text_printable(h->note, note,
		    sizeof(note)));
}

void
notice_waiting(char *buf, size_t len, const char *pkey,
    const struct holder *h, int producing)
{
	char who[400], note[HOLDER_NOTE_MAX + 8];

	if (h == NULL) {
		snprintf(buf, len, "waiting for %s", pkey);
		return;
	}
	holder_describe(h, who, sizeof(who));
	notice_note(h, note, sizeof(note));
	if (producing)
		snprintf(buf, len, "waiting for %s: %s is producing the "
		    "result%s", pkey, who, note);
	else
		snprintf(buf, len, "waiting for %s, held by %s%s", pkey, who,
		    note);
}

void
notice_busy(char *buf, size_t len, const char *pkey, const struct holder *h,
    int64_t waited_ms)
{
	char who[400] = "another process", note[HOLDER_NOTE_MAX + 8] = "";
	char waited[32];

	if (h != NULL) {
		holder_describe(h, who, sizeof(who));
		notice_note(h, note, sizeof(note));
	}
	if (waited_ms > 0) {
		text_duration(waited_ms, waited, sizeof(waited));
		snprintf(buf, len, "timed out after %s waiting for %s, held "
		    "by %s%s", waited, pkey, who, note);
	} else
		snprintf(buf, len, "%s is held by %s%s", pkey, who, note);
}

void
notice_cooling(char *buf, size_t len, const char *pkey,
    const struct lock_cooldown *c)
{
	char since[40], until[40], host[HOLDER_HOST_MAX];

	clock_rfc3339(c->until_ms, until, sizeof(until));
	if (c->since_ms == 0) {
		snprintf(buf, len, "%s is cooling down until %s", pkey, until);
		return;
	}
	clock_rfc3339(c->since_ms, since, sizeof(since));
	snprintf(buf, len, "%s ran at %s on %s; cooling down until %s", pkey,
	    since, text_printable(c->host, host, sizeof(host)), until);
}
