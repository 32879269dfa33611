/*
 * redis_url: parsing of --redis / KEYLOCK_REDIS_URL.
 *
 *	redis://[[user]:password@]host[:port][,host[:port]]...[/db]
 *	rediss://[[user]:password@]host[:port][,...][/db][?param=value[&...]]
 *	unix://[[user]:password@]/path/to/redis.sock[?db=N]
 *	redis+unix://...	(the same as unix://)
 *
 * The parser is strict: anything it does not understand is an error with
 * a one-line reason, never a silent default.  A host may be an IPv6
 * literal in brackets.  User and password are %-decoded like Redis key
 * parts (keyname_unredis(): no %00, no bad escapes); a user needs a
 * password.  The userinfo ends at the last '@' (redis://) or the last
 * "@/" (unix://), so a password may hold '@' or '/'.  "display" names the
 * server for messages, and neither it nor an error message ever holds
 * the password.
 *
 * A list of hosts names seeds (at most REDIS_URL_SENTINELS), servers
 * of one Redis Cluster or one server's addresses: seeds lists them, host
 * and port are the first's, display names them all; the first that
 * answers is used (redis_route.h).
 *
 * rediss:// is redis:// over TLS; its query holds the TLS settings
 * (cacert, cert, key, sni: %-decoded, non-empty; insecure: 0 or 1), each
 * at most once.  The query starts at the first '?', so a password with a
 * '?' writes it %3F (as redis:// must).
 *
 *	redis-sentinel://[[user]:password@]host[:port][,host[:port]]...[/db]
 *	    ?master=NAME[&sentinel_user=U][&sentinel_password=P]
 *	rediss-sentinel://...	(TLS to the sentinels and the master; the
 *				 query takes the TLS settings too)
 *
 * names the master NAME that the listed sentinels (port 26379 unless
 * given, at most REDIS_URL_SENTINELS) point to: host is NULL and
 * sentinels lists them.  The userinfo and db are the master's;
 * sentinel_user and sentinel_password (%-decoded, a user needs a
 * password) are for the sentinels.
 */
#ifndef KEYLOCK_REDIS_URL_H
#define KEYLOCK_REDIS_URL_H

#include <stddef.h>

/* The TLS settings of a rediss:// URL; NULL: not given. */
struct redis_tls {
	char	*cacert;	/* trusted CA bundle, instead of the system's */
	char	*cert;		/* client certificate chain (PEM) */
	char	*key;		/* its private key (PEM); NULL: in cert */
	char	*sni;		/* server name to send and verify */
	int	 insecure;	/* 1: no verification at all */
};

/* A server of a list: a sentinel, a seed. */
struct redis_hostport {
	char	*host;
	int	 port;
};

#define REDIS_URL_SENTINELS	16

struct redis_url {
	int	 is_unix;
	int	 is_tls;	/* rediss:// */
	struct redis_tls tls;
	char	*host;		/* TCP host (IPv6 literal without brackets) */
	int	 port;		/* default 6379 */
	char	*path;		/* unix socket path */
	char	*user;		/* NULL: none (AUTH password only) */
	char	*password;	/* NULL: no AUTH */
	int	 db;		/* 0: no SELECT */
	/* A list of seeds (nseeds > 1); NULL: host alone. */
	struct redis_hostport *seeds;
	int	 nseeds;
	/* Sentinel URLs only (nsentinels > 0). */
	struct redis_hostport *sentinels;
	int	 nsentinels;
	char	*master;	/* the master's name */
	char	*sentinel_user;	/* NULL: none */
	char	*sentinel_password; /* NULL: no AUTH to the sentinels */
	char	 display[300];	/* "host:port", "host:port,host:port..."
				   (seeds), the socket path, or "master
				   NAME" */
};

/* Parses s into u; 0, or -1 with a one-line reason in err. */
int	redis_url_parse(const char *s, struct redis_url *u, char *err,
	    size_t errlen);
/* Frees what redis_url_parse() allocated in u. */
void	redis_url_free(struct redis_url *u);
/* Writes "host:port" ("[host]:port" for IPv6), as display names a
   server, into buf of len bytes. */
void	redis_url_display(char *buf, size_t len, const char *host, int port);

#endif
