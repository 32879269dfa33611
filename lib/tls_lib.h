/*
 * tls_lib: OpenSSL's libssl, loaded with dlopen(3) by the first rediss://
 * connection, so that a run without TLS never maps it (mapping and
 * relocating libssl and libcrypto cost every run about 0.8 ms).
 *
 * Every OpenSSL function keylock calls, the ones behind OpenSSL's macros
 * included (SSL_CTX_set_mode is SSL_CTX_ctrl, BIO_set_retry_read is
 * BIO_set_flags), is a pointer in one table, typed from OpenSSL's own
 * headers.  Below, each name is defined to its pointer, so the transport
 * is written as plain OpenSSL code.  The toolchain keeps the two lists
 * honest: keylock does not link libssl, so a call to a function missing
 * from TLS_LIB_FUNCS is an undefined reference, and a name without a
 * table entry does not compile.
 *
 * Include this header instead of OpenSSL's, and only after tls_lib_load()
 * returned 0 call what it names.
 */
#ifndef KEYLOCK_TLS_LIB_H
#define KEYLOCK_TLS_LIB_H

#include <stddef.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* The soname of OpenSSL 3's libssl; libcrypto comes as its dependency. */
#define TLS_LIB_NAME	"libssl.so.3"

#define TLS_LIB_FUNCS(X) \
	X(BIO_clear_flags) X(BIO_get_data) X(BIO_get_new_index) \
	X(BIO_meth_free) X(BIO_meth_new) X(BIO_meth_set_ctrl) \
	X(BIO_meth_set_read) X(BIO_meth_set_write) X(BIO_new) \
	X(BIO_set_data) X(BIO_set_flags) X(BIO_set_init) X(ERR_clear_error) \
	X(ERR_error_string_n) X(ERR_peek_last_error) \
	X(ERR_reason_error_string) X(OPENSSL_init_crypto) X(OPENSSL_sk_num) \
	X(OPENSSL_sk_value) \
	X(SSL_CTX_check_private_key) X(SSL_CTX_ctrl) X(SSL_CTX_free) \
	X(SSL_CTX_get_cert_store) X(SSL_CTX_new) X(SSL_CTX_sess_set_new_cb) \
	X(SSL_CTX_set_cert_verify_callback) X(SSL_CTX_set_options) \
	X(SSL_CTX_set_verify) X(SSL_CTX_use_PrivateKey_file) \
	X(SSL_CTX_use_certificate_chain_file) X(SSL_SESSION_free) \
	X(SSL_SESSION_get_ticket_lifetime_hint) X(SSL_SESSION_get_time) \
	X(SSL_SESSION_is_resumable) X(SSL_connect) X(SSL_ctrl) X(SSL_free) \
	X(SSL_get0_param) X(SSL_get_error) \
	X(SSL_get_ex_data_X509_STORE_CTX_idx) X(SSL_get_rbio) \
	X(SSL_get_verify_result) X(SSL_new) X(SSL_pending) X(SSL_read) \
	X(SSL_session_reused) X(SSL_set1_host) X(SSL_set_bio) \
	X(SSL_set_hostflags) X(SSL_set_session) X(SSL_set_shutdown) \
	X(SSL_write) X(TLS_client_method) X(X509_STORE_CTX_get0_cert) \
	X(X509_STORE_CTX_get0_untrusted) X(X509_STORE_CTX_get1_issuer) \
	X(X509_STORE_CTX_get_ex_data) X(X509_STORE_CTX_set_error) \
	X(X509_STORE_load_file) X(X509_STORE_load_path) \
	X(X509_VERIFY_PARAM_set1_ip_asc) X(X509_free) \
	X(X509_get_default_cert_dir) X(X509_get_default_cert_dir_env) \
	X(X509_get_default_cert_file) X(X509_get_default_cert_file_env) \
	X(X509_verify_cert) X(X509_verify_cert_error_string) \
	X(d2i_SSL_SESSION) X(i2d_SSL_SESSION)

struct tls_lib {
#define TLS_LIB_FIELD(f)	__typeof__(f) *f;
	TLS_LIB_FUNCS(TLS_LIB_FIELD)
#undef TLS_LIB_FIELD
};

extern struct tls_lib tls_lib;

/* Loads libssl and fills tls_lib, once; 0, or -1 with a one-line reason
   (the library and dlerror(3)) in err. */
int		 tls_lib_load(char *err, size_t errlen);

#ifndef TLS_LIB_NO_REMAP
#define BIO_clear_flags		(tls_lib.BIO_clear_flags)
#define BIO_get_data		(tls_lib.BIO_get_data)
#define BIO_get_new_index	(tls_lib.BIO_get_new_index)
#define BIO_meth_free		(tls_lib.BIO_meth_free)
#define BIO_meth_new		(tls_lib.BIO_meth_new)
#define BIO_meth_set_ctrl	(tls_lib.BIO_meth_set_ctrl)
#define BIO_meth_set_read	(tls_lib.BIO_meth_set_read)
#define BIO_meth_set_write	(tls_lib.BIO_meth_set_write)
#define BIO_new			(tls_lib.BIO_new)
#define BIO_set_data		(tls_lib.BIO_set_data)
#define BIO_set_flags		(tls_lib.BIO_set_flags)
#define BIO_set_init		(tls_lib.BIO_set_init)
#define ERR_clear_error		(tls_lib.ERR_clear_error)
#define ERR_error_string_n	(tls_lib.ERR_error_string_n)
#define ERR_peek_last_error	(tls_lib.ERR_peek_last_error)
#define ERR_reason_error_string	(tls_lib.ERR_reason_error_string)
#define OPENSSL_init_crypto	(tls_lib.OPENSSL_init_crypto)
#define OPENSSL_sk_num		(tls_lib.OPENSSL_sk_num)
#define OPENSSL_sk_value	(tls_lib.OPENSSL_sk_value)
#define SSL_CTX_check_private_key (tls_lib.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl		(tls_lib.SSL_CTX_ctrl)
#define SSL_CTX_free		(tls_lib.SSL_CTX_free)
#define SSL_CTX_get_cert_store	(tls_lib.SSL_CTX_get_cert_store)
#define SSL_CTX_new		(tls_lib.SSL_CTX_new)
#define SSL_CTX_sess_set_new_cb	(tls_lib.SSL_CTX_sess_set_new_cb)
#define SSL_CTX_set_cert_verify_callback \
				(tls_lib.SSL_CTX_set_cert_verify_callback)
#define SSL_CTX_set_options	(tls_lib.SSL_CTX_set_options)
#define SSL_CTX_set_verify	(tls_lib.SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey_file (tls_lib.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate_chain_file \
				(tls_lib.SSL_CTX_use_certificate_chain_file)
#define SSL_SESSION_free	(tls_lib.SSL_SESSION_free)
#define SSL_SESSION_get_ticket_lifetime_hint \
				(tls_lib.SSL_SESSION_get_ticket_lifetime_hint)
#define SSL_SESSION_get_time	(tls_lib.SSL_SESSION_get_time)
#define SSL_SESSION_is_resumable (tls_lib.SSL_SESSION_is_resumable)
#define SSL_connect		(tls_lib.SSL_connect)
#define SSL_ctrl		(tls_lib.SSL_ctrl)
#define SSL_free		(tls_lib.SSL_free)
#define SSL_get0_param		(tls_lib.SSL_get0_param)
#define SSL_get_error		(tls_lib.SSL_get_error)
#define SSL_get_ex_data_X509_STORE_CTX_idx \
				(tls_lib.SSL_get_ex_data_X509_STORE_CTX_idx)
#define SSL_get_rbio		(tls_lib.SSL_get_rbio)
#define SSL_get_verify_result	(tls_lib.SSL_get_verify_result)
#define SSL_new			(tls_lib.SSL_new)
#define SSL_pending		(tls_lib.SSL_pending)
#define SSL_read		(tls_lib.SSL_read)
#define SSL_session_reused	(tls_lib.SSL_session_reused)
#define SSL_set1_host		(tls_lib.SSL_set1_host)
#define SSL_set_bio		(tls_lib.SSL_set_bio)
#define SSL_set_hostflags	(tls_lib.SSL_set_hostflags)
#define SSL_set_session		(tls_lib.SSL_set_session)
#define SSL_set_shutdown	(tls_lib.SSL_set_shutdown)
#define SSL_write		(tls_lib.SSL_write)
#define TLS_client_method	(tls_lib.TLS_client_method)
#define X509_STORE_CTX_get0_cert (tls_lib.X509_STORE_CTX_get0_cert)
#define X509_STORE_CTX_get0_untrusted (tls_lib.X509_STORE_CTX_get0_untrusted)
#define X509_STORE_CTX_get1_issuer (tls_lib.X509_STORE_CTX_get1_issuer)
#define X509_STORE_CTX_get_ex_data (tls_lib.X509_STORE_CTX_get_ex_data)
#define X509_STORE_CTX_set_error (tls_lib.X509_STORE_CTX_set_error)
#define X509_STORE_load_file	(tls_lib.X509_STORE_load_file)
#define X509_STORE_load_path	(tls_lib.X509_STORE_load_path)
#define X509_VERIFY_PARAM_set1_ip_asc (tls_lib.X509_VERIFY_PARAM_set1_ip_asc)
#define X509_free		(tls_lib.X509_free)
#define X509_get_default_cert_dir (tls_lib.X509_get_default_cert_dir)
#define X509_get_default_cert_dir_env (tls_lib.X509_get_default_cert_dir_env)
#define X509_get_default_cert_file (tls_lib.X509_get_default_cert_file)
#define X509_get_default_cert_file_env (tls_lib.X509_get_default_cert_file_env)
#define X509_verify_cert	(tls_lib.X509_verify_cert)
#define X509_verify_cert_error_string (tls_lib.X509_verify_cert_error_string)
#define d2i_SSL_SESSION		(tls_lib.d2i_SSL_SESSION)
#define i2d_SSL_SESSION		(tls_lib.i2d_SSL_SESSION)
#endif

#endif
