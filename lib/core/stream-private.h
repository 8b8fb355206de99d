/* stream-private: the stream structure shared by stream.c (unix, tcp) and
 * stream-ssl.c (the TLS layer over a tcp socket).  Not for other users. */
#ifndef LANYARD_STREAM_PRIVATE_H
#define LANYARD_STREAM_PRIVATE_H 1

#include <stdbool.h>
#include <sys/types.h>

#include "stream.h"

enum stream_kind { STREAM_KIND_UNIX, STREAM_KIND_TCP, STREAM_KIND_SSL };

enum stream_state {
    STREAM_S_CONNECTING,        /* Socket connect() in progress. */
    STREAM_S_HANDSHAKE,         /* TLS handshake in progress. */
    STREAM_S_CONNECTED,
    STREAM_S_FAILED             /* 'error' holds the reason. */
};

struct ssl_st;

struct stream {
    enum stream_kind kind;
    enum stream_state state;
    char *name;
    int fd;
    int error;
    bool is_server;             /* Accepted (TLS server role). */
    struct ssl_st *ssl;         /* TLS only. */
    short ssl_want;             /* POLLIN/POLLOUT OpenSSL is waiting for. */
};

/* stream-ssl.c */
int stream_ssl_start(struct stream *);      /* Creates the SSL object. */
int stream_ssl_handshake(struct stream *);  /* 0, EAGAIN, or error. */
ssize_t stream_ssl_recv(struct stream *, void *, size_t);
ssize_t stream_ssl_send(struct stream *, const void *, size_t);
void stream_ssl_wait(struct stream *, enum stream_wait_type);
void stream_ssl_close(struct stream *);

#endif
