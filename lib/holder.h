/*
 * holder: who holds a key.  The record is one line of text, the same for
 * both backends, so "status" and the waiting message read it one way:
 *
 *	TOKEN HOST PID SINCE_MS FENCE[ u=UNTIL_MS][ c=COOLDOWN_MS][ k=SLOTS]
 *	    [ i=SLOT][ s=1][ w=1][ n=NOTE]
 *
 * TOKEN is 32 lower-case hex digits ("-" in records of local runs), HOST
 * has no blanks, control bytes or DEL (they are replaced), the numbers
 * are plain decimal digits, SINCE_MS and UNTIL_MS are wall-clock epoch
 * milliseconds: UNTIL_MS, when the holder will let go at the latest
 * (acquire --hold); COOLDOWN_MS, the holder's --cooldown; SLOTS, its
 * --slots and SLOT the slot it holds (0..SLOTS-1); s=1 for a --shared
 * holder or waiter, w=1 for a --supersede waiter.  NOTE is the holder's
 * --note with '%', spaces and control bytes written as %XX.  Fields after FENCE are "name=value";
 * a reader skips names it does not know.
 */
#ifndef KEYLOCK_HOLDER_H
#define KEYLOCK_HOLDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HOLDER_TOKEN_LEN	32
#define HOLDER_HOST_MAX		256
#define HOLDER_NOTE_MAX		100	/* bytes of --note */
#define HOLDER_RECORD_MAX	(HOLDER_TOKEN_LEN + HOLDER_HOST_MAX + 64 + \
				 2 * 23 + 3 + 2 * 14 + 8 + 3 * HOLDER_NOTE_MAX)
/* A sealed record: "SUM RECORD\n", SUM the first 16 hex digits of the
   SHA-256 of RECORD, so a reader can tell a whole record from a torn one. */
#define HOLDER_SUM_LEN		16
#define HOLDER_SEALED_MAX	(HOLDER_SUM_LEN + 1 + HOLDER_RECORD_MAX + 1)

struct holder {
	char		token[HOLDER_TOKEN_LEN + 1];
	char		host[HOLDER_HOST_MAX];
	long		pid;
	int64_t		since_ms;	/* wall clock, epoch ms */
	uint64_t	fence;
	int64_t		ttl_ms;		/* lease left; -1 for none (local) */
	int64_t		until_ms;	/* let go by then at the latest; 0 */
	int64_t		cooldown_ms;	/* its --cooldown; 0 */
	unsigned int	slots;		/* its --slots N; 0 without */
	unsigned int	slot;		/* with slots: the one it holds */
	int		shared;		/* 1: --shared */
	int		supersede;	/* 1: a --supersede waiter */
	char		note[HOLDER_NOTE_MAX + 1];	/* "" for none */
};

/* Fills h for this process: host name, pid, now, no token, fence 0. */
void	holder_self(struct holder *h);
/* Sets h->token to 32 fresh random hex digits; 0, or -1 with errno. */
int	holder_new_token(struct holder *h);
/* Writes h as a record into buf (NUL-terminated); returns its length. */
size_t	holder_format(const struct holder *h, char *buf, size_t len);
/* Writes the fields h's record has after FENCE (" u=... n=...", or "")
   into buf (NUL-terminated). */
void	holder_format_tail(const struct holder *h, char *buf, size_t len);
/* Parses a record of len bytes, one line with at most a single trailing
   '\n', into h; 0, or -1 if it is malformed. */
int	holder_parse(const char *rec, size_t len, struct holder *h);
/* Writes h as a sealed record into buf of HOLDER_SEALED_MAX bytes (not
   NUL-terminated); returns its length. */
size_t	holder_seal(const struct holder *h, char *buf);
/* Parses a sealed record at the start of the len bytes at buf into h;
   0, or -1 if it is missing, torn or malformed. */
int	holder_unseal(const char *buf, size_t len, struct holder *h);
/* Writes "pid 123 on host since 2026-...Z" into buf for messages, or
   "an unknown process" when h->pid is 0 (no readable record). */
void	holder_describe(const struct holder *h, char *buf, size_t len);

#endif
