/*
 * redis_route: which server a command goes to.  One Redis server, the
 * first answering seed of a list, or the node of a Redis Cluster that
 * owns the slot, found by following the cluster's redirects.
 *
 * The route knows the URL's servers and the nodes it was sent to (each
 * with the URL's credentials and TLS settings, its own resolved address
 * and TLS context, so a certificate is checked against the node's own
 * address), and the node commands go to now.  Commands follow MOVED
 * (the route stays on the new node) and ASK (ASKING, then this one
 * command on the named node), at most ROUTE_HOPS times each, so a
 * KEY's commands end on its slot's master after one wasted round trip
 * at most, and nothing is asked beforehand: a plain server pays nothing.
 * Whether the server is a cluster node is asked in the first handshake
 * (CLUSTER MYID, in the round trip of the first command): the Pub/Sub
 * flavour must not depend on whether a redirect happened to come.  A
 * node that stops answering sends the route back to the URL's servers.
 */
#ifndef KEYLOCK_REDIS_ROUTE_H
#define KEYLOCK_REDIS_ROUTE_H

#include <stdint.h>

#include "redis_conn.h"
#include "redis_url.h"

/* A server commands may go to. */
struct redis_node {
	struct redis_url	 url;	/* the URL's settings, this host:port */
	struct redis_addr	 addr;
	int			 master; /* serves slots (CLUSTER SLOTS) */
};

struct redis_route {
	const struct redis_url	*url;
	struct redis_addr	*addr;	/* of url's first host */
	int			 cluster; /* 1 cluster, 0 not, -1 unknown */
	struct redis_node	**node;	/* known nodes, each malloc'd and
					   kept until redis_route_free() */
	int			 nnodes;
	int			 cur;	/* where commands go: a node, or -1:
					   url's first host */
	uint16_t		*slots;	/* slot -> node + 1 (0: unknown),
					   after redis_route_slots() */
};

/* A command, or with script a script run by EVALSHA (redis_conn_eval). */
struct redis_call {
	struct redis_script	*script;
	int			 nkeys;
	int			 argc;
	const char		**argv;
	const size_t		*argvlen;	/* or NULL */
};

/* Sets up a route to url (addr: its resolved first host, shared). */
void	redis_route_init(struct redis_route *rt, const struct redis_url *url,
	    struct redis_addr *addr);
/* Frees the nodes (close every connection to them first). */
void	redis_route_free(struct redis_route *rt);
/* The server commands go to now: its URL and address. */
void	redis_route_here(const struct redis_route *rt,
	    const struct redis_url **url, struct redis_addr **addr);
/* Makes c a live connection to the server commands go to: reuses it if
   it is there and alive, else connects (a list of seeds: the first one
   that answers, each in its share of the time left); 0, or -1 with the
   reason in c->err. */
int	redis_route_connect(struct redis_route *rt, struct redis_conn *c,
	    int64_t deadline);
/* Runs q on c (connected by redis_route_connect()), following
   redirects; the reply, maybe an error reply, or NULL with c->err. */
redisReply *redis_route_call(struct redis_route *rt, struct redis_conn *c,
	    const struct redis_call *q, int64_t deadline);
/* Makes sure rt->cluster is known, asking over c if it is not (one
   round trip); 0, or -1 with c->err. */
int	redis_route_learn(struct redis_route *rt, struct redis_conn *c,
	    int64_t deadline);
/* Reads the cluster's slot map (CLUSTER SLOTS) over c: fills rt->slots
   and marks the masters; 0, or -1 with c->err. */
int	redis_route_slots(struct redis_route *rt, struct redis_conn *c,
	    int64_t deadline);
/* Sends commands to node i from now on. */
void	redis_route_pin(struct redis_route *rt, int i);

#endif
