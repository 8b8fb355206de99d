#include "netdev-ctl.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>

static int
prepare(struct ifreq *ifr, int sock, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    if (sock < 0) {
        return EBADF;
    }
    if (strlen(name) >= IFNAMSIZ) {
        return EINVAL;
    }
    strcpy(ifr->ifr_name, name);
    return 0;
}

int
netdev_ctl_get_mac(int sock, const char *name, uint8_t mac[6])
{
    struct ifreq ifr;
    int error = prepare(&ifr, sock, name);
    if (!error && ioctl(sock, SIOCGIFHWADDR, &ifr)) {
        error = errno;
    }
    if (!error) {
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    }
    return error;
}

int
netdev_ctl_set_mac(int sock, const char *name, const uint8_t mac[6])
{
    struct ifreq ifr;
    int error = prepare(&ifr, sock, name);
    if (!error) {
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
        if (ioctl(sock, SIOCSIFHWADDR, &ifr)) {
            error = errno;
        }
    }
    return error;
}

int
netdev_ctl_get_mtu(int sock, const char *name, int *mtu)
{
    struct ifreq ifr;
    int error = prepare(&ifr, sock, name);
    if (!error && ioctl(sock, SIOCGIFMTU, &ifr)) {
        error = errno;
    }
    *mtu = error ? 0 : ifr.ifr_mtu;
    return error;
}

int
netdev_ctl_set_mtu(int sock, const char *name, int mtu)
{
    struct ifreq ifr;
    int error = prepare(&ifr, sock, name);
    if (!error) {
        ifr.ifr_mtu = mtu;
        if (ioctl(sock, SIOCSIFMTU, &ifr)) {
            error = errno;
        }
    }
    return error;
}

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool
netdev_ctl_parse_mac(const char *s, uint8_t mac[6])
{
    if (strlen(s) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        const char *p = s + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return false;
        }
        mac[i] = (uint8_t) (hi << 4 | lo);
    }
    return true;
}
