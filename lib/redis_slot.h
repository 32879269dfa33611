/*
 * redis_slot: what a Redis Cluster client computes without asking: the
 * hash slot of a key, of a SCAN pattern whose hash tag is literal, and
 * the node a MOVED or ASK error names.
 *
 * A key's slot is CRC16 (XMODEM: polynomial 0x1021, initial 0, no
 * reflection) of its hash tag modulo 16384; the hash tag is what lies
 * between the first '{' and the first '}' after it, if that is not
 * empty, else the whole key (the rule of the Redis Cluster
 * specification, so "{user1000}.following" and "user1000" share a slot).
 */
#ifndef KEYLOCK_REDIS_SLOT_H
#define KEYLOCK_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_SLOTS	16384

/* What an error reply asks of a cluster client. */
enum redis_redirect_kind {
	REDIS_REDIRECT_NONE,	/* not a redirect */
	REDIS_REDIRECT_MOVED,	/* the slot lives there now: go and stay */
	REDIS_REDIRECT_ASK,	/* this one command: ASKING, then there */
};

/* Where a redirect points; host "" is the host of the connection that
   got it (a node that does not know its own address). */
struct redis_redirect {
	enum redis_redirect_kind kind;
	int	 slot;
	char	 host[256];
	int	 port;
};

/* CRC16-CCITT (XMODEM) of len bytes of buf. */
uint16_t	redis_slot_crc16(const void *buf, size_t len);
/* The hash slot of the key of len bytes. */
int		redis_slot_of(const void *key, size_t len);
/* The one slot every key matching the SCAN pattern p lives in, when its
   hash tag is literal (no unescaped '*', '?' or '[' before the tag's
   '}'); -1 when its keys may live anywhere. */
int		redis_slot_of_pattern(const char *p);
/* Parses an error reply "MOVED slot host:port" or "ASK slot host:port"
   (host maybe an IPv6 literal, bracketed or not, or empty) into rd;
   its kind, REDIS_REDIRECT_NONE for anything else. */
enum redis_redirect_kind redis_redirect_parse(const char *err,
		    struct redis_redirect *rd);

#endif
