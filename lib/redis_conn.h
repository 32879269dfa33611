/*
 * redis_conn: one connection to a Redis server with deadlines.
 *
 * keylock owns the socket (TCP or unix, close-on-exec, non-blocking) and
 * waits in poll(2); hiredis only formats commands and parses replies.
 * Every call takes a monotonic deadline (clock.h).  An I/O error or a
 * missed deadline marks the connection dead: the caller closes it and
 * connects again.  Messages name the server by url->display, never the
 * password.  A TCP host name is resolved once, by the first connect, into
 * a struct redis_addr that every later connect to the same server reuses
 * (also in a forked process), so no reconnect ever waits on DNS, which has
 * no deadline.
 *
 * A Sentinel URL names no server: every connect asks its sentinels for
 * the master (redis_sentinel.c), so a reconnect after a failover finds
 * the new one.  The sentinels' names are resolved by the first connect
 * too; the master's address must be an IP address (what sentinels
 * announce unless told to announce host names).
 */
#ifndef KEYLOCK_REDIS_CONN_H
#define KEYLOCK_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

struct redis_url;

#define REDIS_ADDR_MAX	8

/* The resolved TCP addresses of a server; n == 0: not resolved yet.
   tls_ctx is the TLS context of a rediss:// server, made by the first
   connect like the addresses, so reconnects and the forked heartbeat
   reuse it (its CA store is read once). */
struct redis_addr {
	int			 n;
	struct sockaddr_storage	 sa[REDIS_ADDR_MAX];
	socklen_t		 len[REDIS_ADDR_MAX];
	void			*tls_ctx;	/* redis_tls.c's; or NULL */
	/* A Sentinel URL's: the master found last, as a URL that borrows
	   the given one's credentials, db and TLS settings (host is
	   owned: an IP address), and the sentinels' own addresses (NULL
	   until the first connect resolves them all). */
	struct redis_url	*master;
	struct redis_addr	*sentinels;
	int			 nsentinels;
};

struct redis_conn;

/*
 * A transport: how bytes cross the connected socket (plain today; TLS is
 * another table).  read and write never block: they return what they
 * moved, or -1 with errno EAGAIN after setting c->want to the poll(2)
 * event to wait for (a TLS read may need to write, and the other way
 * round), or another errno when the connection is dead.
 */
struct redis_transport {
	const char	*name;
	/* Makes the connected socket ready (a TLS handshake) by deadline;
	   0, or -1 with c->err. */
	int		 (*start)(struct redis_conn *c, int64_t deadline);
	/* Reads up to len bytes; n > 0, 0 at the end of the stream, -1.
	   A failure the transport explains itself (a TLS alert) is -1 with
	   errno EPROTO and the reason already in c->err. */
	ssize_t		 (*read)(struct redis_conn *c, void *buf, size_t len);
	/* Writes up to len bytes; n >= 0, or -1. */
	ssize_t		 (*write)(struct redis_conn *c, const void *buf,
			    size_t len);
	/* Nonzero if bytes were read from the socket but not yet returned
	   by read (a TLS record), so poll(2) would not show them. */
	int		 (*pending)(const struct redis_conn *c);
	/* Frees the transport's state; the socket is closed by the caller. */
	void		 (*close)(struct redis_conn *c);
};

extern const struct redis_transport redis_transport_plain;
#ifdef HAVE_TLS
extern const struct redis_transport redis_transport_tls;
/* Frees a redis_addr's tls_ctx. */
void		 redis_tls_ctx_free(void *ctx);
#endif

struct redis_conn {
	const struct redis_url	*conf;		/* the URL given */
	const struct redis_url	*url;		/* the server: conf, or the
						   master found through
						   conf's sentinels */
	struct redis_addr	*addr;		/* shared; filled by the first
						   TCP connect */
	const struct redis_transport *tp;
	void			*tp_state;	/* the transport's */
	short			 want;		/* POLLIN or POLLOUT, after
						   an EAGAIN */
	int64_t			 used;		/* monotonic ms of the connect
						   or the last reply */
	int			 fd;
	redisReader		*reader;
	char			 err[600];
	/* Handshake replies not read yet (AUTH, SELECT, SETNAME): the
	   first command goes out behind the handshake, in its round trip,
	   and its reply is taken only after these were checked. */
	const char		*hs[4];
	int			 hs_next, hs_n;
	char			*hsbuf;		/* the handshake, not sent yet */
	size_t			 hslen;
	/* Set by the caller: the handshake asks CLUSTER MYID, in the same
	   round trip, and cluster says what it learnt: 1 a cluster node,
	   0 not one (or not allowed to say), -1 not known yet. */
	int			 ask_cluster;
	int			 cluster;
	/* The server refused the handshake's credentials or database
	   (AUTH, SELECT): connecting again will not help.  Cleared by
	   each connect. */
	int			 refused;
	/* The server answered the handshake that it is not ready
	   (redis_err_unready()): connecting again later may help.
	   Cleared by each connect. */
	int			 unready;
};

/* A Lua script, run by EVALSHA with an EVAL fallback. */
struct redis_script {
	const char	*src;
	char		 sha[41];	/* filled on first use */
};

/* Sets up an unconnected c for url; url and addr (shared by all
   connections to url, zeroed before the first) must outlive c. */
void		 redis_conn_init(struct redis_conn *c,
		    const struct redis_url *url, struct redis_addr *addr);
/* Frees what connects stored in addr (the TLS context); it may be
   used again. */
void		 redis_addr_free(struct redis_addr *addr);
/* Connects, AUTHs and SELECTs by deadline (through the sentinels of a
   Sentinel URL: see redis_sentinel_connect()); 0, or -1 with c->err. */
int		 redis_conn_connect(struct redis_conn *c, int64_t deadline);
/* Connects to c->url itself, as redis_conn_connect(). */
int		 redis_conn_open(struct redis_conn *c, int64_t deadline);
/* Nonzero if c is connected and not known to be dead. */
int		 redis_conn_alive(const struct redis_conn *c);
/* Nonzero if c is connected and the server has not hung up meanwhile. */
int		 redis_conn_idle_ok(struct redis_conn *c);
/* The socket, for poll(2), or -1. */
int		 redis_conn_fd(const struct redis_conn *c);
/* Nonzero if input arrived that poll(2) on the socket cannot show. */
int		 redis_conn_pending(const struct redis_conn *c);
/* Closes the socket without a word to the server (also right after
   fork) and drops buffered input; c may connect again. */
void		 redis_conn_close(struct redis_conn *c);

/* For transports: waits until the socket is ready for c->want, or
   deadline; 1, 0 at the deadline, -1 with errno. */
int		 redis_conn_wait(struct redis_conn *c, int64_t deadline);

/* Sends one command; 0, or -1 (dead) with c->err. */
int		 redis_conn_send(struct redis_conn *c, int argc,
		    const char **argv, const size_t *argvlen, int64_t deadline);
/* Reads one reply by deadline; NULL (dead) with c->err. */
redisReply	*redis_conn_read(struct redis_conn *c, int64_t deadline);
/* Reads what has arrived: 1 with *rp set, 0 nothing whole yet, -1 dead. */
int		 redis_conn_poll_reply(struct redis_conn *c, redisReply **rp);
/* Sends a command and reads its reply (maybe an error reply); or NULL. */
redisReply	*redis_conn_command(struct redis_conn *c, int argc,
		    const char **argv, const size_t *argvlen, int64_t deadline);
/* Runs script with nkeys of the argc arguments as KEYS; reply or NULL. */
redisReply	*redis_conn_eval(struct redis_conn *c, struct redis_script *s,
		    int nkeys, int argc, const char **argv,
		    const size_t *argvlen, int64_t deadline);
/* redis_sock.c: the socket. */
/* Waits until fd is ready for events or deadline; 1, 0 timeout, -1. */
int		 redis_sock_wait(int fd, short events, int64_t deadline);
/* Resolves c->url's host into c->addr unless it holds addresses; 0, or
   -1 with c->err. */
int		 redis_sock_resolve(struct redis_conn *c);
/* Connects to the TCP address of c->url (resolved once, into c->addr)
   by deadline; the socket, or -1 with c->err. */
int		 redis_sock_tcp(struct redis_conn *c, int64_t deadline);
/* Connects to the unix socket of c->url by deadline; the socket, or -1
   with c->err. */
int		 redis_sock_unix(struct redis_conn *c, int64_t deadline);

/* redis_replicas.c */
/* Sends WAIT n wait_ms (at least 1: 0 would block forever) and reads
   the reply by deadline; how many replicas acknowledged the writes of
   c so far, or -1 with c->err. */
long long	 redis_replicas_wait(struct redis_conn *c, int n,
		    int64_t wait_ms, int64_t deadline);

/* redis_sentinel.c */
/* Connects c to the master its Sentinel URL names: asks the sentinels
   in order (each may take as long as deadline leaves at the start) for
   its address, connects, and checks with ROLE that it is the master;
   a master not reachable or not yet promoted is looked up again every
   SENTINEL_RETRY ms until deadline.  0, or -1 with c->err. */
int		 redis_sentinel_connect(struct redis_conn *c, int64_t deadline);
/* Nonzero if c, connected through sentinels, is not connected to the
   master they name now (all asked by deadline): a failover left it behind
   on a server that may still take writes until the sentinels demote
   it.  0 as well when they cannot tell. */
int		 redis_sentinel_moved(struct redis_conn *c, int64_t deadline);
/* Frees the sentinel state of addr. */
void		 redis_sentinel_free(struct redis_addr *addr);

/* Records "redis ADDR: reason" in c->err (printf style); returns -1. */
int		 redis_conn_seterr(struct redis_conn *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
