/* stream: nonblocking byte streams (active) and listeners (passive).
 *
 * Names follow Open vSwitch:
 *   active:  "unix:PATH", "tcp:IP:PORT", "tcp:[IPv6]:PORT", "ssl:IP:PORT"
 *   passive: "punix:PATH", "ptcp:PORT[:IP]", "pssl:PORT[:IP]"
 * (ptcp:0 binds an ephemeral port; pstream_get_name() then reports the real
 * port, e.g. "ptcp:43521:127.0.0.1".)
 *
 * Every call is nonblocking except the *_block() helpers.  Errors are
 * positive errno values for open/connect/accept; recv/send return a byte
 * count or a negative errno (-EAGAIN when they would block).  punix removes a
 * stale socket file before binding and unlinks its file when closed.  Unix
 * socket paths too long for sun_path are reached through /proc/self/fd.
 *
 * SSL: the key, certificate and CA certificate are process-wide and must be
 * set (stream_ssl_set_*) before opening an ssl/pssl stream; both sides
 * verify the peer's certificate against the CA. */
#ifndef LANYARD_STREAM_H
#define LANYARD_STREAM_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct stream;
struct pstream;

enum stream_wait_type {
    STREAM_CONNECT,
    STREAM_RECV,
    STREAM_SEND
};

/* Returns 0 if NAME is a syntactically valid active stream name, else
 * EAFNOSUPPORT (unknown type) or EINVAL. */
int stream_verify_name(const char *name);
/* Starts connecting to NAME.  On success *STREAMP is a new stream whose
 * connection may still be in progress (see stream_connect()). */
int stream_open(const char *name, struct stream **streamp);
/* Opens NAME and waits up to TIMEOUT_MSEC (negative: forever) for the
 * connection to complete. */
int stream_open_block(const char *name, int timeout_msec,
                      struct stream **streamp);
/* Advances connection setup: 0 when connected, EAGAIN while in progress,
 * otherwise the (sticky) error. */
int stream_connect(struct stream *);
/* Reads up to N bytes: count > 0, 0 at EOF, or -errno (-EAGAIN). */
ssize_t stream_recv(struct stream *, void *buffer, size_t n);
/* Writes up to N bytes: count >= 0 or -errno (-EAGAIN). */
ssize_t stream_send(struct stream *, const void *buffer, size_t n);
/* Performs deferred work (SSL renegotiation and flushing). */
void stream_run(struct stream *);
void stream_run_wait(struct stream *);
/* Registers with the poll loop to wake when WAIT would make progress. */
void stream_wait(struct stream *, enum stream_wait_type);
void stream_close(struct stream *);
const char *stream_get_name(const struct stream *);
/* True for tcp and ssl streams (those that should be probed for
 * inactivity), false for unix. */
bool stream_needs_probes(const char *name);

int pstream_verify_name(const char *name);
int pstream_open(const char *name, struct pstream **pstreamp);
/* Returns 0 and a new connected stream, EAGAIN if none is pending, or an
 * error. */
int pstream_accept(struct pstream *, struct stream **streamp);
void pstream_wait(struct pstream *);
void pstream_close(struct pstream *);
/* The listener's name with the actual bound port for ptcp/pssl. */
const char *pstream_get_name(const struct pstream *);
/* Bound TCP port for ptcp/pssl, 0 for punix. */
uint16_t pstream_get_bound_port(const struct pstream *);

/* SSL configuration (process-wide).  Each returns 0 or a positive errno
 * (EINVAL with a logged reason when OpenSSL rejects a file). */
int stream_ssl_set_key_and_cert(const char *private_key_file,
                                const char *certificate_file);
int stream_ssl_set_ca_cert_file(const char *file_name);
bool stream_ssl_is_configured(void);

#endif
