/*
 * redis_url: parsing of --redis / KEYLOCK_REDIS_URL.
 *
 *	redis://[[user]:password@]host[:port][/db]
 *	unix:///path/to/redis.sock[?db=N]
 *
 * Percent-escapes are decoded in user and password.  "display" names the
 * server for messages and never contains the password.
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
