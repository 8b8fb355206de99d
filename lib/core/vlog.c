/* vlog: module registry, level control and the three writers. */
#include "vlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"
#include "unixctl.h"

static struct list_node vlog_modules = LIST_INITIALIZER(&vlog_modules);
static pthread_mutex_t vlog_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Levels applied to modules registered later by "ANY" specs. */
static enum vlog_level default_levels[VLF_N_DESTINATIONS] = {
    VLL_INFO, VLL_INFO, VLL_INFO
};
static bool syslog_enabled;
static char *log_file_name;
static int log_fd = -1;
static unsigned int msg_seqno;

static const char *const level_names[VLL_N_LEVELS] = {
    "OFF", "EMER", "ERR", "WARN", "INFO", "DBG"
};
static const char *const dest_names[VLF_N_DESTINATIONS] = {
    "console", "syslog", "file"
};

const char *
vlog_level_to_string(enum vlog_level level)
{
    return level < VLL_N_LEVELS ? level_names[level] : "<invalid>";
}

enum vlog_level
vlog_level_from_string(const char *name)
{
    for (int i = 0; i < VLL_N_LEVELS; i++) {
        if (!strcasecmp(name, level_names[i])) {
            return i;
        }
    }
    return VLL_N_LEVELS;
}

const char *
vlog_destination_to_string(enum vlog_destination dest)
{
    return dest < VLF_N_DESTINATIONS ? dest_names[dest] : "<invalid>";
}

enum vlog_destination
vlog_destination_from_string(const char *name)
{
    for (int i = 0; i < VLF_N_DESTINATIONS; i++) {
        if (!strcasecmp(name, dest_names[i])) {
            return i;
        }
    }
    return VLF_N_DESTINATIONS;
}

static void
update_min_level(struct vlog_module *m)
{
    m->min_level = VLL_OFF;
    for (int d = 0; d < VLF_N_DESTINATIONS; d++) {
        enum vlog_level l = m->levels[d];
        if (d == VLF_SYSLOG && !syslog_enabled) {
            continue;
        }
        if (d == VLF_FILE && log_fd < 0) {
            continue;
        }
        m->min_level = MAX(m->min_level, l);
    }
}

static void
update_all_min_levels(void)
{
    struct vlog_module *m;
    LIST_FOR_EACH (m, list_node, &vlog_modules) {
        update_min_level(m);
    }
}

void
vlog_insert_module(struct vlog_module *m)
{
    if (m->registered) {
        return;
    }
    m->registered = true;
    memcpy(m->levels, default_levels, sizeof m->levels);
    update_min_level(m);
    /* Keep the list sorted by name so vlog/list needs no sorting. */
    struct list_node *pos = &vlog_modules;
    struct vlog_module *iter;
    LIST_FOR_EACH (iter, list_node, &vlog_modules) {
        if (strcmp(iter->name, m->name) > 0) {
            pos = &iter->list_node;
            break;
        }
    }
    list_insert(pos, &m->list_node);
}

struct vlog_module *
vlog_module_from_name(const char *name)
{
    struct vlog_module *m;
    LIST_FOR_EACH (m, list_node, &vlog_modules) {
        if (!strcasecmp(m->name, name)) {
            return m;
        }
    }
    return NULL;
}

enum vlog_level
vlog_get_level(const struct vlog_module *m, enum vlog_destination dest)
{
    return m->levels[dest];
}

static void
set_module_levels(struct vlog_module *m, enum vlog_destination dest,
                  enum vlog_level level)
{
    for (int d = 0; d < VLF_N_DESTINATIONS; d++) {
        if (dest == VLF_N_DESTINATIONS || (int) dest == d) {
            m->levels[d] = level;
        }
    }
    update_min_level(m);
}

void
vlog_set_levels(struct vlog_module *module, enum vlog_destination dest,
                enum vlog_level level)
{
    if (module) {
        set_module_levels(module, dest, level);
        return;
    }
    for (int d = 0; d < VLF_N_DESTINATIONS; d++) {
        if (dest == VLF_N_DESTINATIONS || (int) dest == d) {
            default_levels[d] = level;
        }
    }
    struct vlog_module *m;
    LIST_FOR_EACH (m, list_node, &vlog_modules) {
        set_module_levels(m, dest, level);
    }
}

bool
vlog_is_enabled(const struct vlog_module *m, enum vlog_level level)
{
    return level != VLL_OFF && m->min_level >= level;
}

char *
vlog_set_levels_from_string(const char *spec)
{
    struct vlog_module *module = NULL;
    enum vlog_destination dest = VLF_N_DESTINATIONS;
    enum vlog_level level = VLL_DBG;
    bool have_module = false, have_dest = false, have_level = false;
    char *copy = xstrdup(spec), *save = NULL, *error = NULL;

    for (char *w = strtok_r(copy, ": \t,", &save); w;
         w = strtok_r(NULL, ": \t,", &save)) {
        if (!strcasecmp(w, "ANY")) {
            continue;
        }
        enum vlog_destination d = vlog_destination_from_string(w);
        enum vlog_level l = vlog_level_from_string(w);
        struct vlog_module *m = vlog_module_from_name(w);
        if (d != VLF_N_DESTINATIONS) {
            if (have_dest) {
                error = xasprintf("cannot specify multiple destinations");
                break;
            }
            dest = d;
            have_dest = true;
        } else if (l != VLL_N_LEVELS) {
            if (have_level) {
                error = xasprintf("cannot specify multiple levels");
                break;
            }
            level = l;
            have_level = true;
        } else if (m) {
            if (have_module) {
                error = xasprintf("cannot specify multiple modules");
                break;
            }
            module = m;
            have_module = true;
        } else {
            error = xasprintf("no destination, level, or module \"%s\"", w);
            break;
        }
    }
    if (!error) {
        vlog_set_levels(module, dest, level);
    }
    free(copy);
    return error;
}

void
vlog_set_verbosity(const char *arg)
{
    if (!arg || !*arg) {
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_DBG);
        return;
    }
    char *error = vlog_set_levels_from_string(arg);
    if (error) {
        fatal("processing \"%s\": %s", arg, error);
    }
}

int
vlog_set_log_file(const char *file_name)
{
    char *name = file_name ? xstrdup(file_name)
                 : xasprintf("/var/log/lanyard/%s.log", program_name());
    int fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0660);
    if (fd < 0) {
        int error = errno;
        free(name);
        return error;
    }
    pthread_mutex_lock(&vlog_mutex);
    if (log_fd >= 0) {
        close(log_fd);
    }
    log_fd = fd;
    free(log_file_name);
    log_file_name = name;
    pthread_mutex_unlock(&vlog_mutex);
    update_all_min_levels();
    return 0;
}

int
vlog_reopen_log_file(void)
{
    if (!log_file_name) {
        return 0;
    }
    char *name = xstrdup(log_file_name);
    int error = vlog_set_log_file(name);
    free(name);
    return error;
}

void
vlog_close_log_file(void)
{
    pthread_mutex_lock(&vlog_mutex);
    if (log_fd >= 0) {
        close(log_fd);
        log_fd = -1;
    }
    free(log_file_name);
    log_file_name = NULL;
    pthread_mutex_unlock(&vlog_mutex);
    update_all_min_levels();
}

const char *
vlog_get_log_file(void)
{
    return log_file_name;
}

void
vlog_set_syslog(bool enable)
{
    if (enable && !syslog_enabled) {
        openlog(program_name(), LOG_NDELAY, LOG_DAEMON);
    } else if (!enable && syslog_enabled) {
        closelog();
    }
    syslog_enabled = enable;
    update_all_min_levels();
}

char *
vlog_list(void)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "                 console    syslog    file\n");
    ds_put_cstr(&s, "                 -------    ------    ------\n");
    struct vlog_module *m;
    LIST_FOR_EACH (m, list_node, &vlog_modules) {
        ds_put_format(&s, "%-16s  %4s       %4s       %4s\n", m->name,
                      level_names[m->levels[VLF_CONSOLE]],
                      level_names[m->levels[VLF_SYSLOG]],
                      level_names[m->levels[VLF_FILE]]);
    }
    return ds_steal_cstr(&s);
}

void
vlog_format_line(struct ds *s, const char *module_name,
                 enum vlog_level level, unsigned int seqno,
                 long long wall_msec, bool with_msec, const char *msg)
{
    time_t secs = wall_msec / 1000;
    struct tm tm;
    char buf[32];
    gmtime_r(&secs, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    ds_put_cstr(s, buf);
    if (with_msec) {
        ds_put_format(s, ".%03d", (int) (wall_msec % 1000));
    }
    ds_put_format(s, "Z|%05u|%s|%s|%s", seqno, module_name,
                  vlog_level_to_string(level), msg);
}

static void
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return;
        }
        p += r;
        n -= r;
    }
}

static const int syslog_priorities[VLL_N_LEVELS] = {
    LOG_ALERT, LOG_ALERT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG
};

void
vlog_valist(const struct vlog_module *m, enum vlog_level level,
            const char *fmt, va_list args)
{
    if (!vlog_is_enabled(m, level)) {
        return;
    }
    struct ds msg = DS_EMPTY_INITIALIZER, line = DS_EMPTY_INITIALIZER;
    ds_put_format_valist(&msg, fmt, args);
    long long now = time_wall_msec();

    pthread_mutex_lock(&vlog_mutex);
    unsigned int seqno = ++msg_seqno;
    if (m->levels[VLF_CONSOLE] >= level) {
        ds_clear(&line);
        vlog_format_line(&line, m->name, level, seqno, now, false,
                         ds_cstr(&msg));
        ds_put_char(&line, '\n');
        write_all(STDERR_FILENO, line.string, line.length);
    }
    if (syslog_enabled && m->levels[VLF_SYSLOG] >= level) {
        syslog(syslog_priorities[level], "lanyard|%05u|%s|%s|%s", seqno,
               m->name, vlog_level_to_string(level), ds_cstr(&msg));
    }
    if (log_fd >= 0 && m->levels[VLF_FILE] >= level) {
        ds_clear(&line);
        vlog_format_line(&line, m->name, level, seqno, now, true,
                         ds_cstr(&msg));
        ds_put_char(&line, '\n');
        write_all(log_fd, line.string, line.length);
    }
    pthread_mutex_unlock(&vlog_mutex);
    ds_destroy(&msg);
    ds_destroy(&line);
}

void
vlog(const struct vlog_module *m, enum vlog_level level, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vlog_valist(m, level, fmt, args);
    va_end(args);
}

#define TOKENS_PER_MSG 60000u   /* One message costs a minute of 1/min. */

bool
vlog_rate_limit_should_drop(struct vlog_rate_limit *rl, long long now)
{
    unsigned long long cap = (unsigned long long) rl->burst * TOKENS_PER_MSG;
    if (!rl->last_fill) {
        rl->tokens = cap > UINT32_MAX ? UINT32_MAX : (unsigned int) cap;
        rl->last_fill = now;
    } else if (now > rl->last_fill) {
        unsigned long long add = (unsigned long long) (now - rl->last_fill)
                                 * rl->rate;
        unsigned long long t = rl->tokens + add;
        rl->tokens = t > cap ? (unsigned int) MIN(cap, UINT32_MAX)
                     : (unsigned int) t;
        rl->last_fill = now;
    }
    if (rl->tokens >= TOKENS_PER_MSG) {
        rl->tokens -= TOKENS_PER_MSG;
        return false;
    }
    if (!rl->n_dropped) {
        rl->first_dropped = now;
    }
    rl->n_dropped++;
    return true;
}

void
vlog_rate_limit(const struct vlog_module *m, enum vlog_level level,
                struct vlog_rate_limit *rl, const char *fmt, ...)
{
    if (!vlog_is_enabled(m, level)) {
        return;
    }
    if (m->ignore_rate_limits) {
        va_list args;
        va_start(args, fmt);
        vlog_valist(m, level, fmt, args);
        va_end(args);
        return;
    }
    long long now = time_msec();
    pthread_mutex_lock(&vlog_mutex);
    bool drop = vlog_rate_limit_should_drop(rl, now);
    unsigned int n_dropped = drop ? 0 : rl->n_dropped;
    long long since = rl->first_dropped;
    if (!drop) {
        rl->n_dropped = 0;
    }
    pthread_mutex_unlock(&vlog_mutex);
    if (drop) {
        return;
    }
    va_list args;
    va_start(args, fmt);
    vlog_valist(m, level, fmt, args);
    va_end(args);
    if (n_dropped) {
        vlog(m, level, "Dropped %u log messages in last %lld seconds "
             "due to excessive rate", n_dropped, (now - since) / 1000 + 1);
    }
}

void
vlog_set_rate_limits_enabled(struct vlog_module *module, bool enabled)
{
    if (module) {
        module->ignore_rate_limits = !enabled;
        return;
    }
    struct vlog_module *m;
    LIST_FOR_EACH (m, list_node, &vlog_modules) {
        m->ignore_rate_limits = !enabled;
    }
}

char *
vlog_list_pattern(void)
{
    /* The formats are fixed; they are described in the pattern language
     * ovs-appctl users know. */
    return xstrdup(
        "         prefix                            format\n"
        "         ------                            ------\n"
        "SYSLOG   <%B> %D{%h %e %T} %E %A:          lanyard|%05N|%c|%p|%m\n"
        "CONSOLE  none                              "
        "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c|%p|%m\n"
        "FILE     none                              "
        "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c|%p|%m\n");
}

static void
vlog_unixctl_set(struct unixctl_conn *conn, int argc, const char *argv[],
                 void *aux)
{
    for (int i = 1; i < argc; i++) {
        char *error = vlog_set_levels_from_string(argv[i]);
        if (error) {
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        }
    }
    unixctl_command_reply(conn, NULL);
}

static void
vlog_unixctl_list(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *aux)
{
    char *list = vlog_list();
    unixctl_command_reply(conn, list);
    free(list);
}

static void
vlog_unixctl_reopen(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *aux)
{
    if (!log_file_name) {
        unixctl_command_reply_error(conn, "Logging to file not configured");
        return;
    }
    int error = vlog_reopen_log_file();
    if (error) {
        char *msg = xasprintf("could not reopen log file \"%s\" (%s)",
                              log_file_name, strerror(error));
        unixctl_command_reply_error(conn, msg);
        free(msg);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
vlog_unixctl_close(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux)
{
    vlog_close_log_file();
    unixctl_command_reply(conn, NULL);
}

static void
vlog_unixctl_list_pattern(struct unixctl_conn *conn, int argc,
                          const char *argv[], void *aux)
{
    char *text = vlog_list_pattern();
    unixctl_command_reply(conn, text);
    free(text);
}

static void
vlog_unixctl_rate_limit(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *enable)
{
    if (argc == 1) {
        vlog_set_rate_limits_enabled(NULL, enable != NULL);
    }
    for (int i = 1; i < argc; i++) {
        struct vlog_module *m = vlog_module_from_name(argv[i]);
        if (!m && strcasecmp(argv[i], "ANY")) {
            char *msg = xasprintf("no logging module named %s", argv[i]);
            unixctl_command_reply_error(conn, msg);
            free(msg);
            return;
        }
        vlog_set_rate_limits_enabled(m, enable != NULL);
    }
    unixctl_command_reply(conn, NULL);
}

void
vlog_register_unixctl(void)
{
    static int enable_tag;
    unixctl_command_register("vlog/list-pattern", "", 0, 0,
                             vlog_unixctl_list_pattern, NULL);
    unixctl_command_register("vlog/enable-rate-limit", "[module]...", 0,
                             INT32_MAX, vlog_unixctl_rate_limit, &enable_tag);
    unixctl_command_register("vlog/disable-rate-limit", "[module]...", 0,
                             INT32_MAX, vlog_unixctl_rate_limit, NULL);
    unixctl_command_register("vlog/set", "{spec}", 1, INT32_MAX,
                             vlog_unixctl_set, NULL);
    unixctl_command_register("vlog/list", "", 0, 0, vlog_unixctl_list, NULL);
    unixctl_command_register("vlog/reopen", "", 0, 0, vlog_unixctl_reopen,
                             NULL);
    unixctl_command_register("vlog/close", "", 0, 0, vlog_unixctl_close,
                             NULL);
}
