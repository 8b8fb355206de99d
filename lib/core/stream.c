/* stream: unix and tcp sockets (and the TLS dispatch to stream-ssl.c). */
#include "stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "poll-loop.h"
#include "stream-private.h"
#include "util.h"

#define STREAM_DEFAULT_PORT 6640

struct pstream {
    enum stream_kind kind;
    char *name;
    char *unlink_path;          /* punix: socket file to remove on close. */
    int fd;
    uint16_t port;
    /* After accept() fails for want of a resource (EMFILE, ENFILE, ENOBUFS,
     * ENOMEM), the pending connection keeps the listener readable: stop
     * accepting until this time_msec() instead of spinning. */
    long long accept_backoff_until;
};

/* How long a listener rests after a resource failure in accept(). */
#define ACCEPT_BACKOFF_MSEC 100

static unsigned int n_unix_accepted;

/* ---- Address helpers ---- */

/* Fills *SUN for PATH.  Paths longer than sun_path are reached through an
 * O_PATH descriptor for the directory: "/proc/self/fd/N/BASENAME"; *DIRFD
 * receives that descriptor (or -1) and must be closed by the caller after
 * bind()/connect(). */
static int
make_unix_sockaddr(const char *path, struct sockaddr_un *sun,
                   socklen_t *len, int *dirfd)
{
    *dirfd = -1;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) < sizeof sun->sun_path) {
        strcpy(sun->sun_path, path);
    } else {
        const char *slash = strrchr(path, '/');
        if (!slash) {
            return ENAMETOOLONG;
        }
        char *dir = xstrndup(path, slash == path ? 1 : slash - path);
        *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int error = errno;
        free(dir);
        if (*dirfd < 0) {
            return error;
        }
        int n = snprintf(sun->sun_path, sizeof sun->sun_path,
                         "/proc/self/fd/%d/%s", *dirfd, slash + 1);
        if (n < 0 || (size_t) n >= sizeof sun->sun_path) {
            close(*dirfd);
            *dirfd = -1;
            return ENAMETOOLONG;
        }
    }
    *len = offsetof(struct sockaddr_un, sun_path) + strlen(sun->sun_path) + 1;
    return 0;
}

/* Parses "IP:PORT" or "[IP6]:PORT" (HOST_FIRST) or "PORT:IP" (passive) into
 * a socket address.  Missing ports default to 6640; a missing passive IP
 * means any IPv4 address. */
static int
parse_inet(const char *s, bool host_first, struct sockaddr_storage *ss,
           socklen_t *len)
{
    char *copy = xstrdup(s), *host, *port;
    if (host_first) {
        host = copy;
        if (*host == '[') {
            char *end = strchr(host, ']');
            if (!end) {
                free(copy);
                return EINVAL;
            }
            *end = '\0';
            port = end[1] == ':' ? end + 2 : end + 1;
            host++;
        } else {
            char *colon = strrchr(host, ':');
            port = colon ? (*colon = '\0', colon + 1) : host + strlen(host);
        }
    } else {
        port = copy;
        char *colon = strchr(copy, ':');
        host = colon ? (*colon = '\0', colon + 1) : (char *) "0.0.0.0";
        if (*host == '[') {
            host++;
            char *end = strchr(host, ']');
            if (end) {
                *end = '\0';
            }
        } else if (!*host) {
            host = "0.0.0.0";
        }
    }
    int port_num = STREAM_DEFAULT_PORT;
    if (*port && (!str_to_int(port, 10, &port_num) || port_num < 0
                  || port_num > 65535)) {
        free(copy);
        return EINVAL;
    }
    if (!*host) {
        free(copy);
        return EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    int error = 0;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port_num);
        *len = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port_num);
        *len = sizeof *sin6;
    } else {
        error = EINVAL;
    }
    free(copy);
    return error;
}

static char *
format_inet(const char *prefix, const struct sockaddr_storage *ss,
            bool port_first)
{
    char host[INET6_ADDRSTRLEN];
    int port;
    bool v6 = ss->ss_family == AF_INET6;
    if (v6) {
        const struct sockaddr_in6 *sin6 = (const void *) ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
        port = ntohs(sin6->sin6_port);
    } else {
        const struct sockaddr_in *sin = (const void *) ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        port = ntohs(sin->sin_port);
    }
    return port_first
           ? xasprintf("%s:%d:%s%s%s", prefix, port, v6 ? "[" : "", host,
                       v6 ? "]" : "")
           : xasprintf("%s:%s%s%s:%d", prefix, v6 ? "[" : "", host,
                       v6 ? "]" : "", port);
}

static int
kind_from_name(const char *name, bool passive, enum stream_kind *kind,
               const char **suffix)
{
    static const char *const prefixes[2][3] = {
        { "unix:", "tcp:", "ssl:" }, { "punix:", "ptcp:", "pssl:" }
    };
    for (int k = 0; k < 3; k++) {
        const char *p = prefixes[passive][k];
        if (str_starts_with(name, p)) {
            *kind = k;
            *suffix = name + strlen(p);
            return 0;
        }
    }
    return EAFNOSUPPORT;
}

/* ---- Active streams ---- */

static struct stream *
stream_create(enum stream_kind kind, const char *name, int fd,
              enum stream_state state)
{
    struct stream *s = xzalloc(sizeof *s);
    s->kind = kind;
    s->name = xstrdup(name);
    s->fd = fd;
    s->state = state;
    return s;
}

/* Checks NAME as an active (PASSIVE false) or passive stream name. */
static int
verify_name(const char *name, bool passive)
{
    enum stream_kind kind;
    const char *suffix;
    int error = kind_from_name(name, passive, &kind, &suffix);
    if (error) {
        return error;
    }
    if (kind == STREAM_KIND_UNIX) {
        return *suffix ? 0 : EINVAL;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    return parse_inet(suffix, !passive, &ss, &len);
}

int
stream_verify_name(const char *name)
{
    return verify_name(name, false);
}

bool
stream_needs_probes(const char *name)
{
    return str_starts_with(name, "tcp:") || str_starts_with(name, "ssl:")
           || str_starts_with(name, "ptcp:") || str_starts_with(name, "pssl:");
}

int
stream_open(const char *name, struct stream **streamp)
{
    enum stream_kind kind;
    const char *suffix;
    *streamp = NULL;
    int error = kind_from_name(name, false, &kind, &suffix);
    if (error) {
        return error;
    }
    if (kind == STREAM_KIND_SSL && !stream_ssl_is_configured()) {
        return ENOPROTOOPT;
    }

    int fd, dirfd = -1;
    struct sockaddr_storage ss;
    socklen_t len;
    if (kind == STREAM_KIND_UNIX) {
        if (!*suffix) {
            return EINVAL;
        }
        error = make_unix_sockaddr(suffix, (struct sockaddr_un *) &ss, &len,
                                   &dirfd);
    } else {
        error = parse_inet(suffix, true, &ss, &len);
    }
    if (error) {
        return error;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        goto close_dirfd;
    }
    if (kind != STREAM_KIND_UNIX) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    enum stream_state state = STREAM_S_CONNECTED;
    if (connect(fd, (struct sockaddr *) &ss, len) < 0) {
        if (errno != EINPROGRESS) {
            error = errno;
            close(fd);
            goto close_dirfd;
        }
        state = STREAM_S_CONNECTING;
    }
    struct stream *s = stream_create(kind, name, fd, state);
    if (kind == STREAM_KIND_SSL && state == STREAM_S_CONNECTED) {
        s->state = STREAM_S_HANDSHAKE;
        error = stream_ssl_start(s);
        if (error) {
            stream_close(s);
            goto close_dirfd;
        }
    }
    *streamp = s;

close_dirfd:
    if (dirfd >= 0) {
        close(dirfd);
    }
    return error;
}

int
stream_connect(struct stream *s)
{
    if (s->state == STREAM_S_CONNECTING) {
        struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
        if (poll(&pfd, 1, 0) == 0) {
            return EAGAIN;
        }
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
            error = errno;
        }
        if (error) {
            s->state = STREAM_S_FAILED;
            s->error = error;
            return error;
        }
        if (s->kind == STREAM_KIND_SSL) {
            s->state = STREAM_S_HANDSHAKE;
            error = stream_ssl_start(s);
            if (error) {
                s->state = STREAM_S_FAILED;
                s->error = error;
                return error;
            }
        } else {
            s->state = STREAM_S_CONNECTED;
        }
    }
    if (s->state == STREAM_S_HANDSHAKE) {
        int error = stream_ssl_handshake(s);
        if (error == EAGAIN) {
            return EAGAIN;
        }
        if (error) {
            s->state = STREAM_S_FAILED;
            s->error = error;
            return error;
        }
        s->state = STREAM_S_CONNECTED;
    }
    return s->state == STREAM_S_FAILED ? s->error : 0;
}

int
stream_open_block(const char *name, int timeout_msec, struct stream **streamp)
{
    struct stream *s;
    int error = stream_open(name, &s);
    *streamp = NULL;
    if (error) {
        return error;
    }
    long long deadline = timeout_msec < 0 ? LLONG_MAX
                         : time_msec() + timeout_msec;
    while ((error = stream_connect(s)) == EAGAIN) {
        if (time_msec() >= deadline) {
            error = ETIMEDOUT;
            break;
        }
        stream_run(s);
        stream_run_wait(s);
        stream_wait(s, STREAM_CONNECT);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    if (error) {
        stream_close(s);
        return error;
    }
    *streamp = s;
    return 0;
}

ssize_t
stream_recv(struct stream *s, void *buffer, size_t n)
{
    int error = stream_connect(s);
    if (error) {
        return -error;
    }
    if (s->kind == STREAM_KIND_SSL) {
        return stream_ssl_recv(s, buffer, n);
    }
    ssize_t r = recv(s->fd, buffer, n, 0);
    return r < 0 ? -errno : r;
}

ssize_t
stream_send(struct stream *s, const void *buffer, size_t n)
{
    int error = stream_connect(s);
    if (error) {
        return -error;
    }
    if (s->kind == STREAM_KIND_SSL) {
        return stream_ssl_send(s, buffer, n);
    }
    ssize_t r = send(s->fd, buffer, n, MSG_NOSIGNAL);
    return r < 0 ? -errno : r;
}

void
stream_run(struct stream *s)
{
    /* Nothing is deferred for plain sockets; TLS work happens inside
     * recv/send because OpenSSL drives it from there. */
    (void) s;
}

void
stream_run_wait(struct stream *s)
{
    (void) s;
}

void
stream_wait(struct stream *s, enum stream_wait_type wait)
{
    switch (s->state) {
    case STREAM_S_CONNECTING:
        poll_fd_wait(s->fd, POLLOUT);
        return;
    case STREAM_S_HANDSHAKE:
        stream_ssl_wait(s, STREAM_CONNECT);
        return;
    case STREAM_S_FAILED:
        poll_immediate_wake();
        return;
    case STREAM_S_CONNECTED:
        break;
    }
    if (s->kind == STREAM_KIND_SSL) {
        stream_ssl_wait(s, wait);
    } else if (wait == STREAM_CONNECT) {
        poll_immediate_wake();
    } else {
        poll_fd_wait(s->fd, wait == STREAM_RECV ? POLLIN : POLLOUT);
    }
}

void
stream_close(struct stream *s)
{
    if (!s) {
        return;
    }
    if (s->ssl) {
        stream_ssl_close(s);
    }
    close(s->fd);
    free(s->name);
    free(s);
}

const char *
stream_get_name(const struct stream *s)
{
    return s->name;
}

/* ---- Passive streams ---- */

int
pstream_verify_name(const char *name)
{
    return verify_name(name, true);
}

/* Removes PATH if it is a socket nobody listens on any more. */
static void
remove_stale_socket(const char *path)
{
    struct stat st;
    if (stat(path, &st) || !S_ISSOCK(st.st_mode)) {
        return;
    }
    struct stream *probe;
    char *name = xasprintf("unix:%s", path);
    if (stream_open_block(name, 1000, &probe) == 0) {
        stream_close(probe);       /* Live: bind() will fail EADDRINUSE. */
    } else {
        unlink(path);
    }
    free(name);
}

static int
punix_open(const char *path, struct pstream *ps)
{
    struct sockaddr_un sun;
    socklen_t len;
    int dirfd;
    remove_stale_socket(path);
    int error = make_unix_sockaddr(path, &sun, &len, &dirfd);
    if (error) {
        return error;
    }
    ps->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ps->fd < 0
        || bind(ps->fd, (struct sockaddr *) &sun, len) < 0
        || listen(ps->fd, 64) < 0) {
        error = errno;
    }
    if (dirfd >= 0) {
        close(dirfd);
    }
    if (!error) {
        ps->unlink_path = xstrdup(path);
        ps->name = xasprintf("punix:%s", path);
    }
    return error;
}

static int
ptcp_open(const char *prefix, const char *suffix, struct pstream *ps)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int error = parse_inet(suffix, false, &ss, &len);
    if (error) {
        return error;
    }
    ps->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    int on = 1;
    if (ps->fd < 0
        || setsockopt(ps->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0
        || bind(ps->fd, (struct sockaddr *) &ss, len) < 0
        || listen(ps->fd, 64) < 0
        || getsockname(ps->fd, (struct sockaddr *) &ss, &len) < 0) {
        return errno;
    }
    ps->port = ntohs(ss.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *) &ss)->sin6_port
                     : ((struct sockaddr_in *) &ss)->sin_port);
    ps->name = format_inet(prefix, &ss, true);
    return 0;
}

int
pstream_open(const char *name, struct pstream **pstreamp)
{
    enum stream_kind kind;
    const char *suffix;
    *pstreamp = NULL;
    int error = kind_from_name(name, true, &kind, &suffix);
    if (error) {
        return error;
    }
    if (kind == STREAM_KIND_SSL && !stream_ssl_is_configured()) {
        return ENOPROTOOPT;
    }
    struct pstream *ps = xzalloc(sizeof *ps);
    ps->kind = kind;
    ps->fd = -1;
    error = kind == STREAM_KIND_UNIX
            ? (*suffix ? punix_open(suffix, ps) : EINVAL)
            : ptcp_open(kind == STREAM_KIND_SSL ? "pssl" : "ptcp", suffix, ps);
    if (error) {
        if (ps->fd >= 0) {
            close(ps->fd);
        }
        free(ps->name);
        free(ps->unlink_path);
        free(ps);
        return error;
    }
    *pstreamp = ps;
    return 0;
}

int
pstream_accept(struct pstream *ps, struct stream **streamp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *streamp = NULL;
    if (ps->accept_backoff_until && time_msec() < ps->accept_backoff_until) {
        return EAGAIN;
    }
    ps->accept_backoff_until = 0;
    int fd = accept4(ps->fd, (struct sockaddr *) &ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        int error = errno == EWOULDBLOCK ? EAGAIN : errno;
        if (error == EMFILE || error == ENFILE || error == ENOBUFS
            || error == ENOMEM) {
            ps->accept_backoff_until = time_msec() + ACCEPT_BACKOFF_MSEC;
        }
        return error;
    }
    char *name;
    if (ps->kind == STREAM_KIND_UNIX) {
        name = xasprintf("unix#%u", ++n_unix_accepted);
    } else {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        name = format_inet(ps->kind == STREAM_KIND_SSL ? "ssl" : "tcp", &ss,
                           false);
    }
    struct stream *s = stream_create(ps->kind, name, fd, STREAM_S_CONNECTED);
    free(name);
    if (ps->kind == STREAM_KIND_SSL) {
        s->is_server = true;
        s->state = STREAM_S_HANDSHAKE;
        int error = stream_ssl_start(s);
        if (error) {
            stream_close(s);
            return error;
        }
    }
    *streamp = s;
    return 0;
}

void
pstream_wait(struct pstream *ps)
{
    if (ps->accept_backoff_until) {
        poll_timer_wait_until(ps->accept_backoff_until);
    } else {
        poll_fd_wait(ps->fd, POLLIN);
    }
}

void
pstream_close(struct pstream *ps)
{
    if (!ps) {
        return;
    }
    close(ps->fd);
    if (ps->unlink_path) {
        unlink(ps->unlink_path);
        free(ps->unlink_path);
    }
    free(ps->name);
    free(ps);
}

const char *
pstream_get_name(const struct pstream *ps)
{
    return ps->name;
}

uint16_t
pstream_get_bound_port(const struct pstream *ps)
{
    return ps->port;
}
