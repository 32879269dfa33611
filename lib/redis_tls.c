/*
 * redis_tls: the TLS transport of rediss://, OpenSSL's libssl on
 * keylock's own non-blocking socket.
 *
 * Invariants:
 * - nothing blocks: the handshake is driven by poll(2) on the caller's
 *   deadline (redis_conn_wait()), reads and writes return EAGAIN with
 *   c->want set, as the plain transport does;
 * - the server is verified unless insecure is set: its chain against
 *   cacert or the system store, and its name (the SNI name if one is
 *   given, else the URL's host; an IP literal as an address) against
 *   the certificate;
 * - the CA store is read when a certificate is to be verified, not
 *   before: a resumed session needs none; the system store is looked up
 *   by name in its hashed directory, and its whole bundle (~30 ms) is
 *   read only if that directory knows no issuer of the chain;
 * - a session is resumed from the last run (tls_session.h) only under
 *   the same server, name, CA file (path and identity), client
 *   certificate and insecure setting; it is saved after a full
 *   handshake, and again once half its lifetime has passed;
 * - closing never writes: no close_notify, so a connection inherited
 *   across fork(2), or one the server dropped, is let go without a word
 *   (Redis needs no alert, and the session stays resumable);
 * - writes never raise SIGPIPE: the socket BIO is keylock's own and
 *   sends with MSG_NOSIGNAL;
 * - bytes decrypted but not yet returned are reported by pending, so a
 *   poll(2) on the socket never sleeps on a message already here.
 * A failure is one line in c->err naming its cause (the certificate
 * check's verdict, the TLS alert, or a hint at a plain port).
 * libssl is loaded by the first connection (tls_lib.h); the OpenSSL
 * calls below go through its table.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "redis_conn.h"
#include "redis_url.h"
#include "tls_lib.h"
#include "tls_session.h"

/* The longest session saved (a session carries the server's
   certificate). */
#define TLS_SESSION_MAX	16384

/* What a server's connections share (struct redis_addr.tls_ctx). */
struct tls_ctx {
	SSL_CTX		*ctx;
	BIO_METHOD	*bio;		/* the socket BIO below */
	int		 ca_loaded;	/* the CA store was read */
	SSL_SESSION	*sess;		/* to resume, or NULL */
	const SSL	*sess_from;	/* the connection that gave it */
	char		 tag[DIGEST_HEX_LEN + 1]; /* settings of sessions */
};

/* The connection an SSL runs on (the data of its socket BIO). */
static struct redis_conn *
tls_conn(const SSL *ssl)
{
	return BIO_get_data(SSL_get_rbio(ssl));
}

/* The socket BIO: the connection is its data. */
static int
tls_bio_write(BIO *b, const char *buf, int len)
{
	struct redis_conn *c = BIO_get_data(b);
	ssize_t n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);

	BIO_clear_retry_flags(b);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int
tls_bio_read(BIO *b, char *buf, int len)
{
	struct redis_conn *c = BIO_get_data(b);
	ssize_t n = read(c->fd, buf, (size_t)len);

	BIO_clear_retry_flags(b);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

/* Nothing to flush or to tell: the socket is written at once. */
static long
tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;
}

/* Records "TLS: what: the library's reason[hint]"; returns -1. */
static int
tls_seterr(struct redis_conn *c, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
	const char *hint = "";
	char buf[256];

	if (e != 0 && why == NULL) {
		ERR_error_string_n(e, buf, sizeof(buf));
		why = buf;
	}
	switch (ERR_GET_REASON(e)) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		hint = " (is it a plain port? use redis://)";
		break;
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		if (c->url->tls.cert == NULL)
			hint = " (the server may want a client certificate: "
			    "--cert, --key)";
		break;
	}
	ERR_clear_error();
	return redis_conn_seterr(c, "TLS: %s: %s%s", what, why != NULL ? why :
	    "failed", hint);
}

/* Nonzero if the store knows an issuer of a certificate of the chain
   being verified. */
static int
tls_issuer_known(X509_STORE_CTX *x)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(x);
	int i, n = chain != NULL ? OPENSSL_sk_num((OPENSSL_STACK *)chain) : 0;
	X509 *cert, *issuer;

	for (i = -1; i < n; i++) {
		cert = i == -1 ? X509_STORE_CTX_get0_cert(x) :
		    OPENSSL_sk_value((OPENSSL_STACK *)chain, i);
		if (cert != NULL &&
		    X509_STORE_CTX_get1_issuer(&issuer, x, cert) == 1) {
			X509_free(issuer);
			return 1;
		}
	}
	return 0;
}

/* Reads the CA store for x: cacert, or the system's (as
   SSL_CTX_set_default_verify_paths() would, SSL_CERT_DIR and
   SSL_CERT_FILE included, the bundle only when needed); 0 or -1. */
static int
tls_ca_load(struct redis_conn *c, X509_STORE_CTX *x)
{
	X509_STORE *store = SSL_CTX_get_cert_store(
	    ((struct tls_ctx *)c->addr->tls_ctx)->ctx);
	const char *cacert = c->url->tls.cacert, *dir, *file;

	if (cacert != NULL)
		return X509_STORE_load_file(store, cacert) == 1 ? 0 :
		    tls_seterr(c, cacert);
	if ((dir = getenv(X509_get_default_cert_dir_env())) == NULL)
		dir = X509_get_default_cert_dir();
	if ((file = getenv(X509_get_default_cert_file_env())) == NULL)
		file = X509_get_default_cert_file();
	/* A store that is not there is no error: the chain does not
	   verify, which says why. */
	X509_STORE_load_path(store, dir);
	if (!tls_issuer_known(x))
		X509_STORE_load_file(store, file);
	ERR_clear_error();
	return 0;
}

/* OpenSSL's certificate check, after reading the CA store on first
   use; 1 if the chain verifies. */
static int
tls_verify(X509_STORE_CTX *x, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct redis_conn *c = tls_conn(ssl);
	struct tls_ctx *t = c->addr->tls_ctx;

	(void)arg;
	if (!t->ca_loaded) {
		if (tls_ca_load(c, x) == -1) {
			X509_STORE_CTX_set_error(x, X509_V_ERR_UNSPECIFIED);
			return 0;
		}
		t->ca_loaded = 1;
	}
	return X509_verify_cert(x);
}

/* Sets up verification and loads the client certificate; 0 or -1. */
static int
tls_ctx_load(struct redis_conn *c, SSL_CTX *ctx)
{
	const struct redis_tls *o = &c->url->tls;

	if (!o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_cert_verify_callback(ctx, tls_verify, NULL);
	}
	if (o->cert == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
		return tls_seterr(c, o->cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key != NULL ? o->key :
	    o->cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return tls_seterr(c, o->key != NULL ? o->key : o->cert);
	return 0;
}

/* Writes into tag the digest of what a session is valid under. */
static void
tls_tag(const struct redis_conn *c, char tag[DIGEST_HEX_LEN + 1])
{
	const struct redis_tls *o = &c->url->tls;
	const char *s[] = { o->sni, o->cacert, o->cert, o->key };
	struct digest d;
	struct stat st;
	size_t i;

	digest_init(&d);
	digest_str(&d, "keylock tls session 1");
	digest_str(&d, c->url->display);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		digest_u64(&d, s[i] != NULL);
		digest_str(&d, s[i] != NULL ? s[i] : "");
	}
	digest_u64(&d, (uint64_t)o->insecure);
	/* The same path with other CAs in it is another trust. */
	if (o->cacert != NULL && stat(o->cacert, &st) == 0) {
		digest_u64(&d, (uint64_t)st.st_dev);
		digest_u64(&d, (uint64_t)st.st_ino);
		digest_u64(&d, (uint64_t)st.st_size);
		digest_u64(&d, (uint64_t)st.st_mtim.tv_sec);
		digest_u64(&d, (uint64_t)st.st_mtim.tv_nsec);
	}
	digest_end(&d, tag);
}

/* The session saved by an earlier run, if it can be resumed; or NULL. */
static SSL_SESSION *
tls_session_load(const struct redis_conn *c, const struct tls_ctx *t)
{
	unsigned char buf[TLS_SESSION_MAX];
	const unsigned char *p = buf;
	SSL_SESSION *s = NULL;
	ssize_t n;

	if ((n = tls_session_read(c->url->display, t->tag, buf,
	    sizeof(buf))) > 0 && (s = d2i_SSL_SESSION(NULL, &p, (long)n)) !=
	    NULL && !SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		s = NULL;
	}
	ERR_clear_error();
	return s;
}

/* Nonzero if half of s's ticket lifetime has passed. */
static int
tls_session_aging(const SSL_SESSION *s)
{
	unsigned long life = SSL_SESSION_get_ticket_lifetime_hint(s);

	return (unsigned long)(time(NULL) - SSL_SESSION_get_time(s)) >=
	    life / 2;
}

/* OpenSSL's new-session callback (TLS 1.3 tickets arrive after the
   handshake, with the first reply): keeps and saves the connection's
   first session unless the one it resumed is still young; 1 if it kept
   s. */
static int
tls_new_session(SSL *ssl, SSL_SESSION *s)
{
	struct redis_conn *c = tls_conn(ssl);
	struct tls_ctx *t = c->addr->tls_ctx;
	unsigned char buf[TLS_SESSION_MAX], *p = buf;
	int n;

	if (t->sess != NULL && (t->sess_from == ssl ||
	    (SSL_session_reused(ssl) && !tls_session_aging(t->sess))))
		return 0;
	SSL_SESSION_free(t->sess);
	t->sess = s;
	t->sess_from = ssl;
	if ((n = i2d_SSL_SESSION(s, NULL)) > 0 && n <= (int)sizeof(buf) &&
	    i2d_SSL_SESSION(s, &p) == n)
		tls_session_write(c->url->display, t->tag, buf, (size_t)n);
	return 1;
}

/* The server's TLS context, made on first use; NULL with c->err. */
static struct tls_ctx *
tls_ctx_get(struct redis_conn *c)
{
	struct tls_ctx *t = c->addr->tls_ctx;
	char err[300];

	if (t != NULL)
		return t;
	if (tls_lib_load(err, sizeof(err)) == -1) {
		redis_conn_seterr(c, "TLS: %s", err);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		redis_conn_seterr(c, "TLS: out of memory");
		return NULL;
	}
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (t->bio = BIO_meth_new(BIO_get_new_index() |
	    BIO_TYPE_SOURCE_SINK, "keylock socket")) == NULL) {
		tls_seterr(c, "setup");
		goto fail;
	}
	BIO_meth_set_write(t->bio, tls_bio_write);
	BIO_meth_set_read(t->bio, tls_bio_read);
	BIO_meth_set_ctrl(t->bio, tls_bio_ctrl);
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* A reply is self-delimiting: a missing close_notify is just EOF. */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, tls_new_session);
	if (tls_ctx_load(c, t->ctx) == -1)
		goto fail;
	tls_tag(c, t->tag);
	t->sess = tls_session_load(c, t);
	c->addr->tls_ctx = t;
	return t;
fail:
	redis_tls_ctx_free(t);
	return NULL;
}

/* Frees a redis_addr's tls_ctx. */
void
redis_tls_ctx_free(void *ctx)
{
	struct tls_ctx *t = ctx;

	SSL_SESSION_free(t->sess);
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->bio);
	free(t);
}

/* Nonzero if name is an IPv4 or IPv6 literal. */
static int
tls_is_ip(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/* Sets SNI and the name to verify on ssl; 0 or -1. */
static int
tls_name(struct redis_conn *c, SSL *ssl)
{
	const char *name = c->url->tls.sni != NULL ? c->url->tls.sni :
	    c->url->host;
	int ip = tls_is_ip(name);

	if (!ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		return tls_seterr(c, "server name");
	if (c->url->tls.insecure)
		return 0;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 :
	    SSL_set1_host(ssl, name) != 1)
		return tls_seterr(c, "server name");
	return 0;
}

/* Why the handshake failed; returns -1. */
static int
tls_handshake_err(struct redis_conn *c, SSL *ssl, int rc)
{
	long v = SSL_get_verify_result(ssl);

	if (c->err[0] != '\0')
		return -1;	/* the CA store, by tls_verify() */
	if (!c->url->tls.insecure && v != X509_V_OK) {
		ERR_clear_error();
		return redis_conn_seterr(c, "TLS: certificate verify failed: "
		    "%s", X509_verify_cert_error_string(v));
	}
	if (SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL &&
	    ERR_peek_last_error() == 0)
		return redis_conn_seterr(c, "TLS handshake failed: %s%s",
		    errno != 0 ? strerror(errno) : "connection closed by "
		    "server", " (is it a plain port? use redis://)");
	return tls_seterr(c, "handshake failed");
}

/* Runs the handshake on the connected socket by deadline; 0 or -1. */
static int
tls_start(struct redis_conn *c, int64_t deadline)
{
	struct tls_ctx *t;
	BIO *bio;
	SSL *ssl;
	int rc;

	if ((t = tls_ctx_get(c)) == NULL)
		return -1;
	if ((ssl = SSL_new(t->ctx)) == NULL || (bio = BIO_new(t->bio)) ==
	    NULL) {
		SSL_free(ssl);
		return tls_seterr(c, "setup");
	}
	BIO_set_data(bio, c);
	BIO_set_init(bio, 1);
	SSL_set_bio(ssl, bio, bio);
	c->tp_state = ssl;
	if (tls_name(c, ssl) == -1)
		return -1;
	if (t->sess != NULL && SSL_set_session(ssl, t->sess) != 1)
		ERR_clear_error();	/* a full handshake, then */
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((rc = SSL_connect(ssl)) == 1)
			return 0;
		switch (SSL_get_error(ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			c->want = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			c->want = POLLOUT;
			break;
		default:
			if (errno == EINTR)
				continue;
			return tls_handshake_err(c, ssl, rc);
		}
		switch (redis_conn_wait(c, deadline)) {
		case -1:
			return redis_conn_seterr(c, "poll: %s",
			    strerror(errno));
		case 0:
			return redis_conn_seterr(c, "TLS handshake timed out "
			    "(is it a plain port? use redis://)");
		}
	}
}

/* After SSL_read or SSL_write returned rc <= 0: -1 with errno (EAGAIN
   and c->want, EPROTO and c->err, or the socket's), or 0 at EOF. */
static ssize_t
tls_io_err(struct redis_conn *c, SSL *ssl, int rc)
{
	int error = errno;

	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		c->want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_last_error() == 0) {
			ERR_clear_error();
			if (error == 0)
				return 0;	/* EOF */
			errno = error;
			return -1;
		}
		break;
	}
	tls_seterr(c, "connection failed");
	errno = EPROTO;
	return -1;
}

static ssize_t
tls_read(struct redis_conn *c, void *buf, size_t len)
{
	SSL *ssl = c->tp_state;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	return rc > 0 ? rc : tls_io_err(c, ssl, rc);
}

/* After the server hung up on a write: the alert it sent first (a
   client certificate it wanted) is the cause; EPROTO and c->err if one
   is there, errno unchanged otherwise. */
static void
tls_alert(struct redis_conn *c, SSL *ssl)
{
	int error = errno, rc;
	char b;

	ERR_clear_error();
	rc = SSL_read(ssl, &b, 1);
	if (rc <= 0 && SSL_get_error(ssl, rc) == SSL_ERROR_SSL) {
		tls_seterr(c, "connection failed");
		errno = EPROTO;
		return;
	}
	ERR_clear_error();
	errno = error;
}

static ssize_t
tls_write(struct redis_conn *c, const void *buf, size_t len)
{
	SSL *ssl = c->tp_state;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_write(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (rc > 0)
		return rc;
	if (tls_io_err(c, ssl, rc) == 0)
		errno = EPIPE;	/* the server closed the session */
	if (errno == EPIPE || errno == ECONNRESET)
		tls_alert(c, ssl);
	return -1;
}

/* Decrypted bytes not yet read: poll(2) on the socket cannot see them. */
static int
tls_pending(const struct redis_conn *c)
{
	return c->tp_state != NULL && SSL_pending(c->tp_state) > 0;
}

/* Frees the session state without writing a byte (no close_notify). */
static void
tls_close(struct redis_conn *c)
{
	SSL *ssl = c->tp_state;

	if (ssl != NULL) {
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
		SSL_free(ssl);
	}
	c->tp_state = NULL;
}

const struct redis_transport redis_transport_tls = {
	.name = "tls",
	.start = tls_start,
	.read = tls_read,
	.write = tls_write,
	.pending = tls_pending,
	.close = tls_close,
};
