#include "port.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct dp_port_class *const classes[] = {
    &dp_port_system_class,
    &dp_port_internal_class,
    &dp_port_patch_class,
    &dp_port_dummy_class,
    &dp_port_vxlan_class,
    &dp_port_bond_class,
};

int
dp_port_open(const char *type, const char *name,
             const struct dp_port_options *options, struct dp_port **portp)
{
    static const struct dp_port_options no_options = { .mac = NULL };
    *portp = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
        if (!strcmp(type, classes[i]->type)) {
            const struct dp_port_options *o = options ? options : &no_options;
            int error = classes[i]->open(name, o, portp);
            if (!error) {
                (*portp)->split_horizon = o->split_horizon;
            }
            return error;
        }
    }
    return EAFNOSUPPORT;
}

void
dp_port_close(struct dp_port *port)
{
    if (port) {
        /* The policers (policer.h) are plain allocations the port owns. */
        free(atomic_load(&port->ingress_policer));
        free(atomic_load(&port->egress_policer));
        port->class->close(port);
    }
}

void
dp_port_init(struct dp_port *port, const struct dp_port_class *class,
             const char *name)
{
    memset(port, 0, sizeof *port);
    port->class = class;
    port->name = xstrdup(name);
}

void
dp_port_uninit(struct dp_port *port)
{
    free(port->name);
}

static uint64_t
get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void
dp_port_get_stats(struct dp_port *port, struct dp_port_stats *s)
{
    s->rx_packets = get(&port->rx_packets);
    s->rx_bytes = get(&port->rx_bytes);
    s->rx_dropped = get(&port->rx_dropped);
    s->rx_errors = get(&port->rx_errors);
    s->tx_packets = get(&port->tx_packets);
    s->tx_bytes = get(&port->tx_bytes);
    s->tx_dropped = get(&port->tx_dropped);
    s->tx_errors = get(&port->tx_errors);
    if (port->class->stats) {
        port->class->stats(port, s);
    }
}

const char *
dp_port_type(const struct dp_port *port)
{
    return port->class->type;
}
