/*
 * addr.h — the runtime's address table: the core's opaque sc_addr handles
 * (docs/ARCHITECTURE.md §2, "Addresses are opaque handles") to IPv4:port and back.
 *
 * An IPv4 address and a port are 48 bits, more than an sc_addr holds, so the
 * table hands out handles 0, 1, 2, ... in the order it first meets each
 * address and keeps them for the life of the process (the core may hold a
 * handle in its tables for as long as it likes, so a handle is never reused).
 * One table serves every peer a process hosts.
 *
 * On the wire an address is 6 bytes (SC_WIRE_INDEX6_LEN, the size the
 * simulator charges): the IPv4 address, then the port, both big-endian.
 * rt_addr_map() is the sc_wire_addr_map that writes and reads that form.
 *
 * Bound: RT_ADDR_MAX addresses. Network input names addresses, so a hostile
 * peer can fill the table; once full, a datagram naming a new address fails
 * to decode and is counted and dropped (rx_addr_full), and the peers keep
 * talking to the addresses they know.
 */
#ifndef SC_RUNTIME_ADDR_H
#define SC_RUNTIME_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"
#include "core/wire.h"

#define RT_ADDR_MAX      (1u << 16) /* addresses one process can know */
#define RT_ADDR_WIRE_LEN 6          /* IPv4 (4) + port (2) */

typedef struct rt_addr_table {
  uint32_t n;      /* handles given out: 0..n-1 */
  uint32_t max;    /* bound on n, <= RT_ADDR_MAX */
  uint64_t *keys;  /* handle -> key (ip << 16 | port, host order) */
  uint32_t *slots; /* open addressing: key hash -> handle + 1 (0: empty) */
  uint32_t nslots; /* power of two, >= 2 * max */
  uint64_t full;   /* interns refused because the table was full */
  sc_wire_addr_map map;
} rt_addr_table;

/* Allocates a table for up to max addresses (1..RT_ADDR_MAX). Returns 0,
 * SC_ERR_INVALID or SC_ERR_NOMEM. */
int rt_addr_init(rt_addr_table *t, uint32_t max);
void rt_addr_free(rt_addr_table *t);

/* The handle of ip:port (both in host byte order), made if new. Returns 0, or
 * SC_ERR_FULL (the table holds max addresses) or SC_ERR_INVALID (port 0 or
 * address 0.0.0.0, which no peer can be reached at). */
int rt_addr_intern(rt_addr_table *t, uint32_t ip, uint16_t port, sc_addr *out);
/* Looks ip:port up without adding it. Returns 0 or SC_ERR_NOT_FOUND. */
int rt_addr_find(const rt_addr_table *t, uint32_t ip, uint16_t port, sc_addr *out);
/* Points handle a at ip:port from now on: a peer that learns its public
 * address (traverse.h) keeps its handle, so the core's tables stay valid and
 * every message it sends names the new address. The old address no longer
 * finds a; the new one finds a, even if it had a handle of its own (which
 * keeps its address). Returns 0, SC_ERR_NOT_FOUND or SC_ERR_INVALID. */
int rt_addr_rebind(rt_addr_table *t, sc_addr a, uint32_t ip, uint16_t port);
/* The socket address of handle a. Returns 0 or SC_ERR_NOT_FOUND. */
int rt_addr_sockaddr(const rt_addr_table *t, sc_addr a, struct sockaddr_in *out);

/* The wire map over this table (its user pointer is t). */
const sc_wire_addr_map *rt_addr_map(rt_addr_table *t);

/* Parses "A.B.C.D:PORT" (PORT 1..65535) into host-order ip and port.
 * Returns 0 or SC_ERR_INVALID. */
int rt_addr_parse(const char *s, uint32_t *ip, uint16_t *port);
/* Bound on a host name (RFC 1035: 253 characters) with its NUL. */
#define RT_ADDR_HOST_MAX 256
/* As rt_addr_parse, and a host name before the colon is resolved
 * (getaddrinfo, IPv4 only; it may block on DNS, so only at start-up).
 * Returns 0, SC_ERR_INVALID (malformed) or SC_ERR_NOT_FOUND (does not
 * resolve), with why filled on failure. */
int rt_addr_resolve(const char *s, uint32_t *ip, uint16_t *port, char *why,
                    size_t whylen);
/* The address of this machine's interface toward ip:port (host order): what
 * the kernel's route to it would send from (a UDP socket connected, nothing
 * sent). Returns 0 or SC_ERR_NOT_FOUND (no route). */
int rt_addr_local_toward(uint32_t ip, uint16_t port, uint32_t *local);
/* Writes "A.B.C.D:PORT" into out (at least RT_ADDR_STR_MAX bytes). */
#define RT_ADDR_STR_MAX 22
void rt_addr_format(uint32_t ip, uint16_t port, char *out);

#endif
