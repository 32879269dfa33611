/*
 * keylock status KEY, keylock list: who holds what, read without ever
 * taking a lock, and (status) the cached memo entries of KEY.
 */
#include "config.h"

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "exits.h"

/* Prints the holder fields of a JSON object (after "held"). */
static void
json_holder(const struct holder *h)
{
	char since[40];

	if (h->pid == 0) {
		printf(",\"pid\":null,\"host\":null,\"since\":null,"
		    "\"fence\":null");
		return;
	}
	clock_rfc3339(h->since_ms, since, sizeof(since));
	printf(",\"pid\":%ld,\"host\":", h->pid);
	text_json_fputs(h->host, stdout);
	printf(",\"since\":\"%s\",\"fence\":%" PRIu64, since, h->fence);
	if (h->ttl_ms >= 0)
		printf(",\"ttl_ms\":%" PRId64, h->ttl_ms);
	if (h->until_ms > 0) {
		clock_rfc3339(h->until_ms, since, sizeof(since));
		printf(",\"until\":\"%s\"", since);
	}
	if (h->note[0] != '\0') {
		printf(",\"note\":");
		text_json_fputs(h->note, stdout);
	}
}

/* Prints the holders (or waiters) as a JSON array named name. */
static void
json_queue(const char *name, const struct holder *v, size_t n, int waiting)
{
	size_t i;

	printf(",\"%s\":[", name);
	for (i = 0; i < n; i++) {
		printf("%s{\"mode\":\"%s\"", i ? "," : "", v[i].shared ?
		    "shared" : v[i].slots > 0 ? "slots" : "exclusive");
		if (waiting)
			printf(",\"position\":%zu", i + 1);
		if (v[i].slots > 0)
			printf(",\"slots\":%u", v[i].slots);
		if (v[i].slots > 0 && !waiting)
			printf(",\"slot\":%u", v[i].slot);
		if (waiting)
			printf(",\"supersede\":%s", v[i].supersede ? "true" :
			    "false");
		json_holder(&v[i]);
		putchar('}');
	}
	putchar(']');
}

/* Prints the cooldown fields of a JSON object, if KEY is cooling. */
static void
json_cooldown(const struct lock_cooldown *c)
{
	char t[40];

	if (c->until_ms == 0)
		return;
	clock_rfc3339(c->until_ms, t, sizeof(t));
	printf(",\"cooldown_until\":\"%s\"", t);
	if (c->since_ms > 0) {
		clock_rfc3339(c->since_ms, t, sizeof(t));
		printf(",\"cooldown_since\":\"%s\",\"cooldown_host\":", t);
		text_json_fputs(c->host, stdout);
	}
}

/* Prints ", slot 2 of 3" or ", shared" for a holder or waiter. */
static void
text_mode(const struct holder *h, int waiting)
{
	if (h->shared)
		printf(", shared");
	else if (h->slots > 0 && waiting)
		printf(", one of %u slots", h->slots);
	else if (h->slots > 0)
		printf(", slot %u of %u", h->slot, h->slots);
	if (waiting && h->supersede)
		printf(", supersede");
}

/* Prints "KEY: 2nd in queue: pid ... since ..." for people. */
static void
text_waiter(const char *key, const struct holder *h, size_t place)
{
	char who[400], nth[24];

	holder_describe(h, who, sizeof(who));
	text_ordinal(place, nth, sizeof(nth));
	text_fputs(key, stdout);
	printf(": %s in queue: %s", nth, who);
	text_mode(h, 1);
	putchar('\n');
}

/* Prints "KEY: held by ..." for people. */
static void
text_holder(const char *key, const struct holder *h)
{
	char who[400], left[32], until[40];

	holder_describe(h, who, sizeof(who));
	text_fputs(key, stdout);
	printf(": held by %s", who);
	if (h->pid != 0)
		printf(", fence %" PRIu64, h->fence);
	text_mode(h, 0);
	if (h->ttl_ms >= 0) {
		text_duration(h->ttl_ms, left, sizeof(left));
		printf(", lease %s left", left);
	}
	if (h->until_ms > 0) {
		clock_rfc3339(h->until_ms, until, sizeof(until));
		printf(", held until %s at the latest", until);
	}
	if (h->note[0] != '\0') {
		fputs(", note '", stdout);
		text_fputs(h->note, stdout);
		putchar('\'');
	}
	putchar('\n');
}

/* Prints "KEY: free, cooling down until T (ran at T0 on HOST)". */
static void
text_cooling(const char *key, const struct lock_cooldown *c)
{
	char t[40];

	clock_rfc3339(c->until_ms, t, sizeof(t));
	text_fputs(key, stdout);
	printf(": free, cooling down until %s", t);
	if (c->since_ms > 0) {
		clock_rfc3339(c->since_ms, t, sizeof(t));
		printf(" (ran at %s on ", t);
		text_fputs(c->host, stdout);
		putchar(')');
	}
	putchar('\n');
}

struct memo_print {
	int	json;
	int	n;
};

/* Prints one cached entry of the key. */
static enum lock_walk
print_memo(void *arg, const struct memo_info *mi)
{
	struct memo_print *mp = arg;
	char age[32], left[32];

	if (mp->json) {
		printf("%s{\"digest\":\"%s\",\"age_ms\":%" PRId64 ",\"size\":%"
		    PRIu64 ",\"ttl_ms\":%" PRId64 ",\"stderr\":%s,"
		    "\"stderr_size\":%" PRIu64 ",\"exit_status\":%d,"
		    "\"own_ttl\":%s}", mp->n ? "," : "", mi->digest, mi->age_ms,
		    mi->size, mi->ttl_ms, mi->flags & MEMO_HAS_ERR ? "true" :
		    "false", mi->err_size, mi->status,
		    mi->flags & MEMO_OWN_TTL ? "true" : "false");
	} else {
		text_duration(mi->age_ms, age, sizeof(age));
		text_duration(mi->ttl_ms, left, sizeof(left));
		printf("  cached %.12s: %" PRIu64 " bytes, stored %s ago, "
		    "%s left", mi->digest, mi->size, age, left);
		if (mi->flags & MEMO_HAS_ERR)
			printf(", %" PRIu64 " of them stderr", mi->err_size);
		if (mi->status != 0)
			printf(", exit %d", mi->status);
		if (mi->flags & MEMO_OWN_TTL)
			printf(", TTL chosen by the command");
		putchar('\n');
	}
	mp->n++;
	return LOCK_WALK_NEXT;
}

int
cmd_status(int argc, char **argv)
{
	struct options o;
	struct memo_print mp = { 0, 0 };
	struct lock_state st;
	struct lock *l;
	const struct memo_backend *memo;
	const char *key;
	char pkey[256];
	int i, held;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	l = options_backend(&o);
	memo = l->be->memo;
	if (l->be->status(l, key, &st) == -1) {
		warnx("%s: %s", text_printable(key, pkey, sizeof(pkey)),
		    lock_error(l));
		i = options_exit_code(l);
		options_free(&o, l);
		return i;
	}
	held = st.nholders > 0;
	mp.json = o.json;
	if (o.json) {
		printf("{\"key\":");
		text_json_fputs(key, stdout);
		printf(",\"backend\":\"%s\",\"held\":%s", l->be->name,
		    held ? "true" : "false");
		if (held)
			json_holder(&st.holders[0]);
		json_cooldown(&st.cooldown);
		json_queue("holders", st.holders, st.nholders, 0);
		json_queue("waiters", st.waiters, st.nwaiters, 1);
		printf(",\"memo\":[");
		if (memo != NULL)
			memo->list(l, key, print_memo, &mp);
		printf("]}\n");
	} else {
		for (i = 0; i < (int)st.nholders; i++)
			text_holder(key, &st.holders[i]);
		if (!held && st.cooldown.until_ms > 0)
			text_cooling(key, &st.cooldown);
		else if (!held) {
			text_fputs(key, stdout);
			puts(": free");
		}
		for (i = 0; i < (int)st.nwaiters; i++)
			text_waiter(key, &st.waiters[i], (size_t)i + 1);
		if (memo != NULL)
			memo->list(l, key, print_memo, &mp);
	}
	lock_state_free(&st);
	options_free(&o, l);
	return held ? 0 : EXIT_FREE;
}

struct list_print {
	int	json;
	int	n;
};

/* Prints one held key. */
static enum lock_walk
print_held(void *arg, const char *key, const struct lock_state *st)
{
	struct list_print *lp = arg;
	char pkey[256];

	if (st->unreadable != NULL) {
		warnx("list: skipped %s: %s", text_printable(key, pkey,
		    sizeof(pkey)), st->unreadable);
		return LOCK_WALK_NEXT;
	}
	if (!lp->json) {
		text_fputs(key, stdout);
		printf("\t%zu holder%s", st->nholders, st->nholders == 1 ? "" :
		    "s");
		if (st->nwaiters > 0)
			printf(", %zu waiting", st->nwaiters);
		putchar('\n');
		return LOCK_WALK_NEXT;
	}
	printf("%s{\"key\":", lp->n++ ? "," : "");
	text_json_fputs(key, stdout);
	printf(",\"held\":%s", st->nholders > 0 ? "true" : "false");
	if (st->nholders > 0)
		json_holder(&st->holders[0]);
	printf(",\"holder_count\":%zu,\"waiter_count\":%zu}",
	    st->nholders, st->nwaiters);
	return LOCK_WALK_NEXT;
}

int
cmd_list(int argc, char **argv)
{
	struct options o;
	struct list_print lp = { 0, 0 };
	struct lock *l;
	int i, rc;

	i = options_parse(&o, argc, argv);
	if (i != argc)
		usage_error("list: too many operands");
	l = options_backend(&o);
	lp.json = o.json;
	if (o.json)
		putchar('[');
	rc = l->be->list(l, print_held, &lp);
	if (o.json)
		printf("]\n");
	if (rc == -1) {
		warnx("list: %s", lock_error(l));
		rc = options_exit_code(l);
	}
	options_free(&o, l);
	return rc;
}
