/*
 * redis_url: parsing of --redis / KEYLOCK_REDIS_URL.
 *
 *	redis://[[user]:password@]host[:port][/db]
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
 */
#ifndef KEYLOCK_REDIS_URL_H
#define KEYLOCK_REDIS_URL_H

#include <stddef.h>

struct redis_url {
	int	 is_unix;
	char	*host;		/* TCP host (IPv6 literal without brackets) */
	int	 port;		/* default 6379 */
	char	*path;		/* unix socket path */
	char	*user;		/* NULL: none (AUTH password only) */
	char	*password;	/* NULL: no AUTH */
	int	 db;		/* 0: no SELECT */
	char	 display[300];	/* "host:port" or the socket path */
};

/* Parses s into u; 0, or -1 with a one-line reason in err. */
int	redis_url_parse(const char *s, struct redis_url *u, char *err,
	    size_t errlen);
/* Frees what redis_url_parse() allocated in u. */
void	redis_url_free(struct redis_url *u);

#endif
