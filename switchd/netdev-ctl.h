/* netdev-ctl: the few kernel network-device settings switchd changes or
 * reads itself (MAC, MTU), through ioctls on a datagram socket.  The
 * datapath opens and polls devices; switchd owns what the database asks of
 * them (Interface.mtu_request, Bridge other_config:hwaddr).
 *
 * Errors: 0 or a positive errno (ENODEV for a missing device, EINVAL for a
 * name longer than IFNAMSIZ - 1). */
#ifndef LANYARD_SWITCHD_NETDEV_CTL_H
#define LANYARD_SWITCHD_NETDEV_CTL_H 1

#include <stdbool.h>
#include <stdint.h>

int netdev_ctl_get_mac(int sock, const char *name, uint8_t mac[6]);
int netdev_ctl_set_mac(int sock, const char *name, const uint8_t mac[6]);
int netdev_ctl_get_mtu(int sock, const char *name, int *mtu);
int netdev_ctl_set_mtu(int sock, const char *name, int mtu);

/* Parses "xx:xx:xx:xx:xx:xx" (hex, either case).  False if malformed. */
bool netdev_ctl_parse_mac(const char *s, uint8_t mac[6]);

#endif
