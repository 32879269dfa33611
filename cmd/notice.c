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

/* Writes "3rd in queue" for place into buf, or "" when it is 0. */
static void
notice_place(unsigned int place, char *buf, size_t len)
{
	char nth[24];

	buf[0] = '\0';
	if (place == 0)
		return;
	text_ordinal(place, nth, sizeof(nth));
	snprintf(buf, len, "%s in queue", nth);
}

void
notice_waiting(char *buf, size_t len, const char *pkey,
    const struct holder *h, unsigned int place, int producing)
{
	char who[400], note[HOLDER_NOTE_MAX + 8], queue[48], held[40];
	char host[HOLDER_HOST_MAX];
	int64_t now = clock_wall_ms();

	notice_place(place, queue, sizeof(queue));
	if (h != NULL && producing) {
		holder_describe(h, who, sizeof(who));
		notice_note(h, note, sizeof(note));
		snprintf(buf, len, "waiting for %s: %s is producing the "
		    "result%s", pkey, who, note);
		return;
	}
	if (h == NULL || h->pid == 0) {
		snprintf(buf, len, "waiting for %s%s%s%s", pkey,
		    *queue ? " (" : "", queue, *queue ? ")" : "");
		return;
	}
	notice_note(h, note, sizeof(note));
	text_duration(now > h->since_ms ? now - h->since_ms : 0, held,
	    sizeof(held));
	snprintf(buf, len, "waiting for %s (%s%sheld by pid %ld on %s for "
	    "%s%s)", pkey, queue, *queue ? "; " : "", h->pid,
	    text_printable(h->host, host, sizeof(host)), held, note);
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

void
notice_superseded(char *buf, size_t len, const char *pkey,
    const struct holder *h)
{
	char who[400];

	holder_describe(h, who, sizeof(who));
	snprintf(buf, len, "gave up waiting for %s: superseded by %s", pkey,
	    who);
}
