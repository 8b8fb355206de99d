/* poll-loop: per-thread registrations collected between two poll_block()s. */
#include "poll-loop.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "util.h"

struct poll_loop {
    struct pollfd *fds;
    size_t n_fds, allocated;
    long long deadline;         /* Absolute msec; LLONG_MAX: none. */
    struct pollfd *last;        /* Results of the last poll_block(). */
    size_t n_last, last_allocated;
};

static _Thread_local struct poll_loop loop = { .deadline = LLONG_MAX };

/* Frees a thread's arrays when it exits (the main thread's stay until
 * process exit, which is fine). */
static pthread_key_t loop_key;
static pthread_once_t loop_key_once = PTHREAD_ONCE_INIT;

static void
free_loop(void *loop_)
{
    struct poll_loop *l = loop_;
    free(l->fds);
    free(l->last);
    l->fds = l->last = NULL;
    l->n_fds = l->allocated = l->n_last = l->last_allocated = 0;
}

static void
create_loop_key(void)
{
    pthread_key_create(&loop_key, free_loop);
}

static void
register_loop(void)
{
    pthread_once(&loop_key_once, create_loop_key);
    if (!pthread_getspecific(loop_key)) {
        pthread_setspecific(loop_key, &loop);
    }
}

void
poll_fd_wait(int fd, short events)
{
    for (size_t i = 0; i < loop.n_fds; i++) {
        if (loop.fds[i].fd == fd) {
            loop.fds[i].events |= events;
            return;
        }
    }
    if (loop.n_fds >= loop.allocated) {
        register_loop();
        loop.fds = x2nrealloc(loop.fds, &loop.allocated, sizeof *loop.fds);
    }
    loop.fds[loop.n_fds++] = (struct pollfd) { .fd = fd, .events = events };
}

void
poll_timer_wait_until(long long abs_msec)
{
    if (abs_msec < loop.deadline) {
        loop.deadline = abs_msec;
    }
}

void
poll_timer_wait(long long msec)
{
    long long now = time_msec();
    poll_timer_wait_until(msec <= 0 ? now
                          : msec >= LLONG_MAX - now ? LLONG_MAX
                          : now + msec);
}

void
poll_immediate_wake(void)
{
    loop.deadline = LLONG_MIN;
}

void
poll_block(void)
{
    int timeout;
    if (loop.deadline == LLONG_MAX) {
        timeout = -1;
    } else {
        long long now = time_msec();
        long long delta = loop.deadline <= now ? 0 : loop.deadline - now;
        timeout = delta > INT_MAX ? INT_MAX : (int) delta;
    }

    /* EINTR just returns: signal handlers wake the loop via a self-pipe. */
    int retval = poll(loop.fds, loop.n_fds, timeout);

    /* Keep the results for poll_fd_revents(), then start afresh. */
    struct pollfd *tmp = loop.last;
    size_t tmp_allocated = loop.last_allocated;
    loop.last = loop.fds;
    loop.last_allocated = loop.allocated;
    loop.n_last = retval < 0 ? 0 : loop.n_fds;
    loop.fds = tmp;
    loop.allocated = tmp_allocated;
    loop.n_fds = 0;
    loop.deadline = LLONG_MAX;
}

short
poll_fd_revents(int fd)
{
    for (size_t i = 0; i < loop.n_last; i++) {
        if (loop.last[i].fd == fd) {
            return loop.last[i].revents;
        }
    }
    return 0;
}
