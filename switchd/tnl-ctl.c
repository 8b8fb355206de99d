#include "tnl-ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "port.h"
#include "unixctl.h"
#include "util.h"

/* One line of dp_vxlan_format_endpoints() (port.h), turned into
 * tnl/ports/show's; false if LINE is not an endpoint line. */
static bool
format_endpoint(const char *line, bool verbose, struct ds *out)
{
    char family[8];
    unsigned int port;
    unsigned long long n_tunnels, rx, unknown, malformed, oversize;
    if (sscanf(line, "vxlan endpoint %7s port %u: tunnels=%llu rx=%llu "
               "unknown_tunnel=%llu malformed=%llu oversize=%llu",
               family, &port, &n_tunnels, &rx, &unknown, &malformed,
               &oversize) != 7) {
        return false;
    }
    if (verbose) {
        ds_put_format(out, "vxlan_sys_%u (%s) : rx=%llu unknown_tunnel=%llu "
                      "malformed=%llu oversize=%llu\n", port, family, rx,
                      unknown, malformed, oversize);
    } else {
        ds_put_format(out, "vxlan_sys_%u (%s) ref_cnt=%llu\n", port, family,
                      n_tunnels);
    }
    return true;
}

static void
cmd_tnl_ports_show(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux)
{
    (void) aux;
    bool verbose = argc > 1 && !strcmp(argv[1], "-v");
    if (argc > 1 && !verbose) {
        char *msg = xasprintf("unknown option \"%s\" (tnl/ports/show takes "
                              "-v)", argv[1]);
        unixctl_command_reply_error(conn, msg);
        free(msg);
        return;
    }
    struct ds endpoints = DS_EMPTY_INITIALIZER;
    dp_vxlan_format_endpoints(&endpoints);
    char *text = ds_steal_cstr(&endpoints);
    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&out, "Listening ports:\n");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        format_endpoint(line, verbose, &out);
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
    free(text);
}

void
tnl_ctl_register(void)
{
    unixctl_command_register("tnl/ports/show", "-v", 0, 1,
                             cmd_tnl_ports_show, NULL);
}
