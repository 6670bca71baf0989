/*
 * portmap.h — a UDP port mapping on the home router, through NAT-PMP
 * (RFC 6886, libnatpmp) or else UPnP-IGD (WANIPConnection's AddPortMapping,
 * libminiupnpc), so that peers reach this one without a punch (docs/nat.md).
 *
 * A peer behind a router (traverse.h: nat "mapped") asks the router to send
 * datagrams for its public port to the port it bound, the same public port
 * its router already uses for it, so the address it announces does not
 * change. Both libraries block (a NAT-PMP answer takes up to a few hundred
 * ms, UPnP's discovery a second), so a worker thread does the asking: it
 * maps, reports through an ev_async to the loop's thread, renews at half
 * the lease, and removes the mapping when stopped (at exit).
 */
#ifndef SC_RUNTIME_PORTMAP_H
#define SC_RUNTIME_PORTMAP_H

#include <ev.h>
#include <stdint.h>

enum rt_portmap_method {
  RT_PORTMAP_NONE = 0, /* nothing mapped (yet, or the router offers neither) */
  RT_PORTMAP_NATPMP,
  RT_PORTMAP_UPNP
};
const char *rt_portmap_method_name(enum rt_portmap_method m);

#define RT_PORTMAP_LEASE_S        3600 /* asked for; renewed at half */
#define RT_PORTMAP_NATPMP_WAIT_MS 2000 /* for the router's NAT-PMP answer */
#define RT_PORTMAP_UPNP_WAIT_MS   1000 /* for UPnP's discovery (SSDP) */

typedef struct rt_portmap_result {
  enum rt_portmap_method method;
  uint32_t ext_ip; /* the router's public address (host order), 0: unknown */
  uint16_t ext_port;
  uint32_t lease_s;
  char why[160]; /* with RT_PORTMAP_NONE: what each protocol answered */
} rt_portmap_result;

typedef struct rt_portmap rt_portmap;

/* Called on the loop's thread, after each attempt (the first, and each
 * renewal). */
typedef void (*rt_portmap_done_fn)(void *user, const rt_portmap_result *r);

/* Starts asking the router to map UDP public port want_port to
 * internal_port on this host. Returns 0, SC_ERR_NOMEM, or SC_ERR_INVALID
 * when the thread cannot start. */
int rt_portmap_start(rt_portmap **out, struct ev_loop *loop, uint16_t internal_port,
                     uint16_t want_port, rt_portmap_done_fn done, void *user);
/* Removes the mapping (waiting at most about a second for the router),
 * ends the worker and frees pm. NULL is allowed. */
void rt_portmap_stop(rt_portmap *pm);

#endif
