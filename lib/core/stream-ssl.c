/* stream-ssl: TLS (OpenSSL) over a connected tcp socket.  One SSL_CTX serves
 * both roles; peers must present a certificate signed by the CA. */
#include "stream.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>

#include "poll-loop.h"
#include "stream-private.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(stream_ssl);

static SSL_CTX *ssl_ctx;
static bool have_key_and_cert, have_ca_cert;

static SSL_CTX *
get_ctx(void)
{
    if (!ssl_ctx) {
        ssl_ctx = SSL_CTX_new(TLS_method());
        if (!ssl_ctx) {
            fatal("SSL_CTX_new failed");
        }
        /* OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer
         * that vanished must give EPIPE, not kill the process. */
        signal(SIGPIPE, SIG_IGN);
        SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
        SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                         | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER
                           | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ssl_ctx;
}

static const char *
ssl_error_string(void)
{
    unsigned long e = ERR_get_error();
    const char *s = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return s ? s : "unknown error";
}

int
stream_ssl_set_key_and_cert(const char *private_key_file,
                            const char *certificate_file)
{
    SSL_CTX *ctx = get_ctx();
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file) != 1) {
        VLOG_ERR("%s: could not load certificate (%s)", certificate_file,
                 ssl_error_string());
        return EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, private_key_file,
                                    SSL_FILETYPE_PEM) != 1) {
        VLOG_ERR("%s: could not load private key (%s)", private_key_file,
                 ssl_error_string());
        return EINVAL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        VLOG_ERR("private key %s does not match certificate %s",
                 private_key_file, certificate_file);
        return EINVAL;
    }
    have_key_and_cert = true;
    return 0;
}

int
stream_ssl_set_ca_cert_file(const char *file_name)
{
    if (SSL_CTX_load_verify_locations(get_ctx(), file_name, NULL) != 1) {
        VLOG_ERR("%s: could not load CA certificate (%s)", file_name,
                 ssl_error_string());
        return EINVAL;
    }
    have_ca_cert = true;
    return 0;
}

bool
stream_ssl_is_configured(void)
{
    return have_key_and_cert && have_ca_cert;
}

int
stream_ssl_start(struct stream *s)
{
    SSL *ssl = SSL_new(get_ctx());
    if (!ssl || SSL_set_fd(ssl, s->fd) != 1) {
        SSL_free(ssl);
        return ENOMEM;
    }
    if (s->is_server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
    }
    s->ssl = ssl;
    s->ssl_want = 0;
    return 0;
}

/* Maps an OpenSSL result to 0 (progress), EAGAIN (recording what it waits
 * for), EOF, or EPROTO. */
static int
interpret_ssl_result(struct stream *s, int ret, const char *op)
{
    int err = SSL_get_error(s->ssl, ret);
    switch (err) {
    case SSL_ERROR_NONE:
        return 0;
    case SSL_ERROR_WANT_READ:
        s->ssl_want = POLLIN;
        return EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        s->ssl_want = POLLOUT;
        return EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return EOF;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            return errno ? errno : EOF;
        }
        /* Fall through. */
    default:
        VLOG_WARN("%s: %s failed: %s", s->name, op, ssl_error_string());
        return EPROTO;
    }
}

int
stream_ssl_handshake(struct stream *s)
{
    int ret = SSL_do_handshake(s->ssl);
    if (ret == 1) {
        s->ssl_want = 0;
        return 0;
    }
    int error = interpret_ssl_result(s, ret, "TLS handshake");
    return error == EOF ? ECONNRESET : error ? error : EAGAIN;
}

ssize_t
stream_ssl_recv(struct stream *s, void *buffer, size_t n)
{
    int ret = SSL_read(s->ssl, buffer, n > INT32_MAX ? INT32_MAX : (int) n);
    if (ret > 0) {
        s->ssl_want = 0;
        return ret;
    }
    int error = interpret_ssl_result(s, ret, "SSL_read");
    return error == EOF ? 0 : -(error ? error : EAGAIN);
}

ssize_t
stream_ssl_send(struct stream *s, const void *buffer, size_t n)
{
    if (!n) {
        return 0;
    }
    int ret = SSL_write(s->ssl, buffer, n > INT32_MAX ? INT32_MAX : (int) n);
    if (ret > 0) {
        s->ssl_want = 0;
        return ret;
    }
    int error = interpret_ssl_result(s, ret, "SSL_write");
    return -(error == EOF ? EPIPE : error ? error : EAGAIN);
}

void
stream_ssl_wait(struct stream *s, enum stream_wait_type wait)
{
    if (wait == STREAM_RECV && SSL_pending(s->ssl) > 0) {
        poll_immediate_wake();
        return;
    }
    short events = s->ssl_want;
    if (!events || wait != STREAM_CONNECT) {
        events |= wait == STREAM_SEND ? POLLOUT : POLLIN;
    }
    poll_fd_wait(s->fd, events);
}

void
stream_ssl_close(struct stream *s)
{
    if (s->state == STREAM_S_CONNECTED) {
        /* One nonblocking close_notify so the peer sees a clean EOF. */
        SSL_shutdown(s->ssl);
        ERR_clear_error();
    }
    SSL_free(s->ssl);
    s->ssl = NULL;
}
