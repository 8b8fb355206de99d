/* sysstats: the Open_vSwitch.statistics column, as ovs-vswitchd fills it
 * when other_config:enable-statistics=true (ovs-vswitchd.conf.db(5)):
 *
 *   cpu            online CPUs
 *   load_average   "1min,5min,15min" load averages
 *   memory         "total,used,free[,swap total,swap used]" in kB
 *   process_NAME   "vsz,rss,cpu ms,crashes,ms since start,ms running" of
 *                  every daemon with a pidfile (NAME.pid) in the scanned
 *                  directories; we are never run under --monitor, so the
 *                  crash count is 0 and the two durations are equal
 *   file_systems   "MOUNT,total kB,used kB ..." for local writable ones
 *
 * sysstats_collect() reads /proc, the pidfiles and statvfs(): an I/O shell
 * around small formatting helpers.  The caller writes the result at most
 * every SYSSTATS_INTERVAL_MSEC, as ovs-vswitchd refreshes it every 5 s. */
#ifndef LANYARD_SWITCHD_SYSSTATS_H
#define LANYARD_SWITCHD_SYSSTATS_H 1

#include <jansson.h>

#define SYSSTATS_INTERVAL_MSEC 5000

/* Returns an OVSDB map datum (["map", [[k, v], ...]]) with the keys above.
 * DIRS: NULL-terminated list of directories to scan for *.pid files; our
 * own process is always included as process_PROGRAM. */
json_t *sysstats_collect(const char *const *dirs);

#endif
