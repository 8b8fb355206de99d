/* vlog: logging by module, level and destination.
 *
 * Each .c file that logs declares its module once with
 * VLOG_DEFINE_THIS_MODULE(name); the module registers itself before main()
 * runs.  A message is written to every destination (console = stderr,
 * syslog, file) whose level for that module is at least the message's level.
 * Lines in the log file look like
 *     2026-11-21T00:00:00.123Z|00001|module|INFO|message
 * and on the console the same without milliseconds.
 *
 * Rate limiting: a 'struct vlog_rate_limit' is a token bucket (RATE messages
 * per minute, bursts of BURST); VLOG_WARN_RL(&rl, ...) drops messages when
 * the bucket is empty and later reports how many were dropped.
 *
 * The module list and destinations are process-wide and not thread-safe to
 * reconfigure; logging itself takes a mutex so other threads may log. */
#ifndef LANYARD_VLOG_H
#define LANYARD_VLOG_H 1

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "util.h"

struct ds;

enum vlog_level {
    VLL_OFF,
    VLL_EMER,
    VLL_ERR,
    VLL_WARN,
    VLL_INFO,
    VLL_DBG,
    VLL_N_LEVELS
};

enum vlog_destination {
    VLF_CONSOLE,
    VLF_SYSLOG,
    VLF_FILE,
    VLF_N_DESTINATIONS
};

/* "OFF", "EMER", "ERR", "WARN", "INFO", "DBG". */
const char *vlog_level_to_string(enum vlog_level);
/* Case-insensitive; returns VLL_N_LEVELS if NAME is not a level. */
enum vlog_level vlog_level_from_string(const char *name);
/* "console", "syslog", "file". */
const char *vlog_destination_to_string(enum vlog_destination);
/* Returns VLF_N_DESTINATIONS if NAME is not a destination. */
enum vlog_destination vlog_destination_from_string(const char *name);

struct vlog_module {
    struct list_node list_node;     /* In the global module list. */
    const char *name;
    enum vlog_level levels[VLF_N_DESTINATIONS];
    enum vlog_level min_level;      /* Max of 'levels' (cached). */
    bool registered;
    bool ignore_rate_limits;        /* vlog/disable-rate-limit. */
};

/* Defines 'this_module' for the logging macros in the including file. */
#define VLOG_DEFINE_THIS_MODULE(MODULE)                                        \
    static struct vlog_module VLM_##MODULE = {                                 \
        .name = #MODULE,                                                       \
        .levels = { VLL_INFO, VLL_INFO, VLL_INFO },                            \
        .min_level = VLL_INFO,                                                 \
    };                                                                         \
    __attribute__((constructor)) static void                                   \
    vlog_init_module_##MODULE(void)                                            \
    {                                                                          \
        vlog_insert_module(&VLM_##MODULE);                                     \
    }                                                                          \
    static struct vlog_module *const this_module = &VLM_##MODULE

/* Adds MODULE to the global list (idempotent).  New modules take the
 * default levels set with "ANY:..." specs so far. */
void vlog_insert_module(struct vlog_module *);
/* Case-insensitive lookup; NULL if no such module. */
struct vlog_module *vlog_module_from_name(const char *name);

enum vlog_level vlog_get_level(const struct vlog_module *,
                               enum vlog_destination);
/* MODULE NULL means every module; DEST VLF_N_DESTINATIONS means every
 * destination. */
void vlog_set_levels(struct vlog_module *, enum vlog_destination,
                     enum vlog_level);
bool vlog_is_enabled(const struct vlog_module *, enum vlog_level);

/* Applies a spec made of words separated by ':' (or spaces or commas): each
 * word is a module name, a destination, a level, or "ANY"/"any"; anything
 * left out means "all".  Examples: "dbd:file:dbg", "ANY:console:off", "warn".
 * Returns NULL on success, otherwise a malloc'd error message such as
 * `no destination, level, or module "bogus"` and changes nothing. */
char *vlog_set_levels_from_string(const char *spec) WARN_UNUSED;
/* For -v/--verbose[=SPEC]: NULL or "" sets console to dbg; otherwise each
 * space- or comma-separated spec is applied; fatal() on a bad spec. */
void vlog_set_verbosity(const char *arg);

/* Sends log output to FILE_NAME (NULL: /var/log/lanyard/<program>.log),
 * opened for appending.  Returns 0 or a positive errno (the old file, if any,
 * stays in use on failure). */
int vlog_set_log_file(const char *file_name);
/* Reopens the current log file (after rotation).  0 if no file is set. */
int vlog_reopen_log_file(void);
void vlog_close_log_file(void);
/* Current log file name, or NULL. */
const char *vlog_get_log_file(void);
/* Enables or disables the syslog destination (off until enabled). */
void vlog_set_syslog(bool enable);

/* The `vlog/list` table (caller frees). */
char *vlog_list(void);

/* Formats one log line without a trailing newline into DS (pure: used by
 * the writers and the tests).  WALL_MSEC is milliseconds since the epoch;
 * WITH_MSEC selects the file format ".123Z" versus the console "Z". */
void vlog_format_line(struct ds *, const char *module_name,
                      enum vlog_level, unsigned int seqno,
                      long long wall_msec, bool with_msec, const char *msg);

void vlog(const struct vlog_module *, enum vlog_level, const char *fmt, ...)
    PRINTF_FORMAT(3, 4);
void vlog_valist(const struct vlog_module *, enum vlog_level,
                 const char *fmt, va_list) PRINTF_FORMAT(3, 0);

/* Token bucket: RATE messages per minute on average, BURST at once. */
struct vlog_rate_limit {
    unsigned int rate;          /* Tokens added per minute. */
    unsigned int burst;         /* Bucket capacity. */
    unsigned int tokens;        /* Current tokens, scaled by 60000. */
    long long last_fill;        /* time_msec() of the last refill; 0: none */
    long long first_dropped;    /* When the current drop run started. */
    unsigned int n_dropped;     /* Messages dropped since last report. */
};
#define VLOG_RATE_LIMIT_INIT(RATE, BURST) { RATE, BURST, 0, 0, 0, 0 }

/* Pure bucket step at time NOW (msec): true if the message must be dropped. */
bool vlog_rate_limit_should_drop(struct vlog_rate_limit *, long long now);

void vlog_rate_limit(const struct vlog_module *, enum vlog_level,
                     struct vlog_rate_limit *, const char *fmt, ...)
    PRINTF_FORMAT(4, 5);

/* MODULE NULL: every module. */
void vlog_set_rate_limits_enabled(struct vlog_module *, bool enabled);
/* The `vlog/list-pattern` table (caller frees). */
char *vlog_list_pattern(void);

/* Registers vlog/set, vlog/list, vlog/list-pattern, vlog/reopen,
 * vlog/close, vlog/enable-rate-limit and vlog/disable-rate-limit with
 * unixctl. */
void vlog_register_unixctl(void);

#define VLOG_(LEVEL, ...)                                                      \
    do {                                                                       \
        if (this_module->min_level >= (LEVEL)) {                               \
            vlog(this_module, LEVEL, __VA_ARGS__);                             \
        }                                                                      \
    } while (0)
#define VLOG_RL_(RL, LEVEL, ...)                                               \
    do {                                                                       \
        if (this_module->min_level >= (LEVEL)) {                               \
            vlog_rate_limit(this_module, LEVEL, RL, __VA_ARGS__);              \
        }                                                                      \
    } while (0)

#define VLOG_EMER(...) VLOG_(VLL_EMER, __VA_ARGS__)
#define VLOG_ERR(...) VLOG_(VLL_ERR, __VA_ARGS__)
#define VLOG_WARN(...) VLOG_(VLL_WARN, __VA_ARGS__)
#define VLOG_INFO(...) VLOG_(VLL_INFO, __VA_ARGS__)
#define VLOG_DBG(...) VLOG_(VLL_DBG, __VA_ARGS__)
#define VLOG_ERR_RL(RL, ...) VLOG_RL_(RL, VLL_ERR, __VA_ARGS__)
#define VLOG_WARN_RL(RL, ...) VLOG_RL_(RL, VLL_WARN, __VA_ARGS__)
#define VLOG_INFO_RL(RL, ...) VLOG_RL_(RL, VLL_INFO, __VA_ARGS__)
#define VLOG_DBG_RL(RL, ...) VLOG_RL_(RL, VLL_DBG, __VA_ARGS__)
#define VLOG_IS_DBG_ENABLED() (this_module->min_level >= VLL_DBG)

#endif
