#include "sysstats.h"

#include <dirent.h>
#include <errno.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ds.h"
#include "util.h"

static void
put(json_t *pairs, const char *key, const char *value)
{
    json_array_append_new(pairs, json_pack("[s,s]", key, value));
}

/* Reads the whole of small file PATH into BUF; false on failure. */
static bool
read_small(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

static void
add_load(json_t *pairs)
{
    char buf[128];
    double l1, l5, l15;
    if (read_small("/proc/loadavg", buf, sizeof buf)
        && sscanf(buf, "%lf %lf %lf", &l1, &l5, &l15) == 3) {
        char *v = xasprintf("%.2f,%.2f,%.2f", l1, l5, l15);
        put(pairs, "load_average", v);
        free(v);
    }
}

static long long
meminfo_kb(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? atoll(p + strlen(key)) : -1;
}

static void
add_memory(json_t *pairs)
{
    char buf[8192];
    if (!read_small("/proc/meminfo", buf, sizeof buf)) {
        return;
    }
    long long total = meminfo_kb(buf, "MemTotal:");
    long long avail = meminfo_kb(buf, "MemAvailable:");
    long long free_kb = meminfo_kb(buf, "MemFree:");
    long long swap = meminfo_kb(buf, "SwapTotal:");
    long long swap_free = meminfo_kb(buf, "SwapFree:");
    if (total < 0 || free_kb < 0) {
        return;
    }
    long long used = total - (avail >= 0 ? avail : free_kb);
    struct ds v = DS_EMPTY_INITIALIZER;
    ds_put_format(&v, "%lld,%lld,%lld", total, used, total - used);
    if (swap > 0 && swap_free >= 0) {
        ds_put_format(&v, ",%lld,%lld", swap, swap - swap_free);
    }
    put(pairs, "memory", ds_cstr(&v));
    ds_destroy(&v);
}

/* "vsz,rss,cpu,crashes,since start,running" for PID, or NULL. */
static char *
process_stats(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    if (!read_small(path, buf, sizeof buf)) {
        return NULL;
    }
    /* Fields after the parenthesised command name, which may hold spaces;
     * utime is field 14, stime 15, starttime 22, vsize 23, rss 24. */
    const char *p = strrchr(buf, ')');
    unsigned long long utime, stime, start, vsize;
    long long rss;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                     &utime, &stime, &start, &vsize, &rss) != 5) {
        return NULL;
    }
    long hz = sysconf(_SC_CLK_TCK);
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    double uptime = 0;
    if (read_small("/proc/uptime", buf, sizeof buf)) {
        uptime = atof(buf);
    }
    long long cpu_ms = (long long) ((utime + stime) * 1000 / (unsigned long long) hz);
    long long age_ms = (long long) (uptime * 1000) - (long long) (start * 1000 / (unsigned long long) hz);
    if (age_ms < 0) {
        age_ms = 0;
    }
    return xasprintf("%llu,%lld,%lld,0,%lld,%lld", vsize / 1024, rss * page_kb,
                     cpu_ms, age_ms, age_ms);
}

static bool
has_key(const json_t *pairs, const char *key)
{
    size_t i;
    const json_t *pair;
    json_array_foreach (pairs, i, pair) {
        if (!strcmp(json_string_value(json_array_get(pair, 0)), key)) {
            return true;
        }
    }
    return false;
}

static void
add_process(json_t *pairs, const char *name, pid_t pid)
{
    char *key = xasprintf("process_%s", name);
    char *v = has_key(pairs, key) ? NULL : process_stats(pid);
    if (v) {
        put(pairs, key, v);
    }
    free(v);
    free(key);
}

static void
add_pidfiles(json_t *pairs, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".pid")) {
            continue;
        }
        char *path = xasprintf("%s/%s", dir, de->d_name);
        char buf[32];
        int pid = read_small(path, buf, sizeof buf) ? atoi(buf) : 0;
        free(path);
        if (pid > 0 && pid != getpid() && !kill(pid, 0)) {
            char *name = xasprintf("%.*s", (int) (len - 4), de->d_name);
            add_process(pairs, name, pid);
            free(name);
        }
    }
    if (d) {
        closedir(d);
    }
}

/* Local, writable file systems backed by a device, as ovs-vswitchd lists
 * them (network and virtual file systems left out). */
static void
add_file_systems(json_t *pairs)
{
    FILE *f = setmntent("/proc/mounts", "r");
    struct ds v = DS_EMPTY_INITIALIZER;
    struct mntent *me;
    while (f && (me = getmntent(f))) {
        struct statvfs st;
        if (strncmp(me->mnt_fsname, "/dev/", 5) || hasmntopt(me, "ro")
            || statvfs(me->mnt_dir, &st) || !st.f_blocks) {
            continue;
        }
        unsigned long long kb = st.f_frsize / 1024;
        char *mnt = xstrdup(me->mnt_dir);
        for (char *c = mnt; *c; c++) {
            if (*c == ' ' || *c == ',') {
                *c = '_';
            }
        }
        ds_put_format(&v, "%s%s,%llu,%llu", v.length ? " " : "", mnt,
                      (unsigned long long) st.f_blocks * kb,
                      (unsigned long long) (st.f_blocks - st.f_bfree) * kb);
        free(mnt);
    }
    if (f) {
        endmntent(f);
    }
    if (v.length) {
        put(pairs, "file_systems", ds_cstr(&v));
    }
    ds_destroy(&v);
}

json_t *
sysstats_collect(const char *const *dirs)
{
    json_t *pairs = json_array();
    long n_cpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (n_cpu > 0) {
        char *v = xasprintf("%ld", n_cpu);
        put(pairs, "cpu", v);
        free(v);
    }
    add_load(pairs);
    add_memory(pairs);
    add_process(pairs, program_name(), getpid());
    for (size_t i = 0; dirs && dirs[i]; i++) {
        add_pidfiles(pairs, dirs[i]);
    }
    add_file_systems(pairs);
    return json_pack("[s,o]", "map", pairs);
}
