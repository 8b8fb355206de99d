/* poll-loop: the single-threaded event loop.
 *
 * Each main-loop iteration calls the modules' *_run() functions, then their
 * *_wait() functions, which register what should wake the loop (file
 * descriptors, timers, "wake now"), then poll_block(), which sleeps in
 * poll(2) until one of those happens and forgets every registration.
 *
 * Registering the same fd twice merges the event masks.  State is per
 * thread (thread-local), so each control thread has its own loop. */
#ifndef LANYARD_POLL_LOOP_H
#define LANYARD_POLL_LOOP_H 1

#include <poll.h>

/* Wakes the next poll_block() when FD has any of EVENTS (POLLIN, POLLOUT). */
void poll_fd_wait(int fd, short events);
/* Wakes the next poll_block() after MSEC milliseconds (<= 0: immediately). */
void poll_timer_wait(long long msec);
/* Wakes the next poll_block() at monotonic time ABS_MSEC (time_msec()). */
void poll_timer_wait_until(long long abs_msec);
/* Makes the next poll_block() return without sleeping. */
void poll_immediate_wake(void);
/* Sleeps until something registered since the last call happens, then
 * clears all registrations.  With nothing registered it sleeps forever
 * (until a signal handler's write wakes a registered self-pipe). */
void poll_block(void);
/* Returns the revents poll_block() last reported for FD (0 if none); valid
 * until the next poll_fd_wait(). */
short poll_fd_revents(int fd);

#endif
