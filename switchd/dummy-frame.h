/* dummy-frame: the frames `netdev-dummy/receive` accepts, as OVS writes
 * them: raw hex, or an OVS datapath flow describing the frame, e.g.
 *
 *   in_port(1),eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),
 *   eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),
 *   ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),
 *   udp(src=1,dst=2))
 *
 * Flow keys: metadata that does not change the frame (in_port,
 * skb_priority, skb_mark, recirc_id, dp_hash, packet_type(ns=0,id=0)),
 * eth(src,dst), eth_type, vlan(vid,pcp,cfi) + encap(...) (up to two tags,
 * the TPID is the eth_type before vlan), ipv4(src,dst,proto,tos,ttl,
 * frag=no), ipv6(src,dst,label,proto,tclass,hlimit,frag=no),
 * arp(sip,tip,op,sha,tha), tcp(src,dst) + tcp_flags, udp(src,dst),
 * icmp(type,code), icmpv6(type,code).  Omitted fields are 0 (ttl/hlimit
 * 64, arp op 1); lengths and checksums are computed; the frame is padded
 * with zeros to 60 bytes.  Masks ("/...") are refused: a frame has exact
 * values.
 *
 * Pure core: no I/O.  Errors are returned as messages that name the
 * problem (caller frees). */
#ifndef LANYARD_SWITCHD_DUMMY_FRAME_H
#define LANYARD_SWITCHD_DUMMY_FRAME_H 1

#include <stddef.h>
#include <stdint.h>

/* Frames a dummy port accepts: at least an Ethernet header, at most the
 * largest frame the datapath handles (a 64 KiB GSO frame). */
#define DUMMY_FRAME_MIN 14
#define DUMMY_FRAME_MAX 65535
/* The Ethernet minimum without FCS: flows are padded to it, and --len may
 * not ask for less. */
#define DUMMY_FRAME_ETH_MIN 60

/* Parses hex digits (pairs may be separated by white space) into a new
 * frame *FRAMEP of *SIZEP bytes (caller frees).  Returns NULL, or an error
 * message (caller frees) and leaves *FRAMEP NULL. */
char *dummy_frame_from_hex(const char *text, uint8_t **framep, size_t *sizep);

/* Builds the frame the datapath flow TEXT describes, padded to LEN bytes
 * (0: to DUMMY_FRAME_ETH_MIN); IP lengths and checksums cover what LEN
 * adds.  Returns NULL or an error message as dummy_frame_from_hex(). */
char *dummy_frame_from_flow(const char *text, size_t len, uint8_t **framep,
                            size_t *sizep);

#endif
