/* addr.c — see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/rng.h"

static uint64_t addr_key(uint32_t ip, uint16_t port) {
  return ((uint64_t)ip << 16) | port;
}

int rt_addr_init(rt_addr_table *t, uint32_t max) {
  memset(t, 0, sizeof *t);
  if (max == 0 || max > RT_ADDR_MAX) return SC_ERR_INVALID;
  uint32_t nslots = 1;
  while (nslots < 2 * max)
    nslots <<= 1; /* load factor <= 1/2: short probes */
  t->keys = calloc(max, sizeof *t->keys);
  t->slots = calloc(nslots, sizeof *t->slots);
  if (!t->keys || !t->slots) {
    rt_addr_free(t);
    return SC_ERR_NOMEM;
  }
  t->max = max;
  t->nslots = nslots;
  return 0;
}

void rt_addr_free(rt_addr_table *t) {
  free(t->keys);
  free(t->slots);
  t->keys = NULL;
  t->slots = NULL;
  t->n = t->max = t->nslots = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t addr_slot(const rt_addr_table *t, uint64_t key) {
  uint32_t mask = t->nslots - 1;
  uint32_t i = (uint32_t)sc_mix64(key) & mask;
  for (;;) {
    uint32_t h = t->slots[i];
    if (h == 0 || t->keys[h - 1] == key) return i;
    i = (i + 1) & mask;
  }
}

int rt_addr_find(const rt_addr_table *t, uint32_t ip, uint16_t port, sc_addr *out) {
  if (t->nslots == 0) return SC_ERR_NOT_FOUND;
  uint32_t h = t->slots[addr_slot(t, addr_key(ip, port))];
  if (h == 0) return SC_ERR_NOT_FOUND;
  *out = h - 1;
  return 0;
}

int rt_addr_intern(rt_addr_table *t, uint32_t ip, uint16_t port, sc_addr *out) {
  if (ip == 0 || port == 0) return SC_ERR_INVALID;
  uint64_t key = addr_key(ip, port);
  uint32_t i = addr_slot(t, key);
  if (t->slots[i] != 0) {
    *out = t->slots[i] - 1;
    return 0;
  }
  if (t->n >= t->max) {
    t->full++;
    return SC_ERR_FULL;
  }
  t->keys[t->n] = key;
  t->slots[i] = ++t->n;
  *out = t->n - 1;
  return 0;
}

int rt_addr_rebind(rt_addr_table *t, sc_addr a, uint32_t ip, uint16_t port) {
  if (a >= t->n) return SC_ERR_NOT_FOUND;
  if (ip == 0 || port == 0) return SC_ERR_INVALID;
  uint64_t key = addr_key(ip, port);
  /* The old key's slot keeps a, whose key no longer matches: lookups of the
   * old address probe past it (a tombstone, one per rebind). */
  t->keys[a] = key;
  t->slots[addr_slot(t, key)] = a + 1;
  return 0;
}

int rt_addr_sockaddr(const rt_addr_table *t, sc_addr a, struct sockaddr_in *out) {
  if (a >= t->n) return SC_ERR_NOT_FOUND;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_addr.s_addr = htonl((uint32_t)(t->keys[a] >> 16));
  out->sin_port = htons((uint16_t)(t->keys[a] & 0xffff));
  return 0;
}

static int addr_to_bytes(void *user, sc_addr a, uint8_t *out, size_t outlen) {
  const rt_addr_table *t = user;
  if (a >= t->n || outlen < RT_ADDR_WIRE_LEN) return SC_ERR_INVALID;
  uint64_t k = t->keys[a];
  for (int i = 0; i < RT_ADDR_WIRE_LEN; i++)
    out[i] = (uint8_t)(k >> (8 * (RT_ADDR_WIRE_LEN - 1 - i)));
  return RT_ADDR_WIRE_LEN;
}

static int addr_from_bytes(void *user, const uint8_t *in, size_t inlen, sc_addr *out) {
  rt_addr_table *t = user;
  if (inlen != RT_ADDR_WIRE_LEN) return SC_ERR_INVALID;
  uint64_t k = 0;
  for (int i = 0; i < RT_ADDR_WIRE_LEN; i++)
    k = (k << 8) | in[i];
  return rt_addr_intern(t, (uint32_t)(k >> 16), (uint16_t)(k & 0xffff), out);
}

const sc_wire_addr_map *rt_addr_map(rt_addr_table *t) {
  t->map.user = t;
  t->map.to_bytes = addr_to_bytes;
  t->map.from_bytes = addr_from_bytes;
  return &t->map;
}

int rt_addr_parse(const char *s, uint32_t *ip, uint16_t *port) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= 16) return SC_ERR_INVALID;
  char host[16];
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  struct in_addr in;
  if (inet_pton(AF_INET, host, &in) != 1) return SC_ERR_INVALID;
  char *end;
  const char *p = colon + 1;
  if (*p < '0' || *p > '9') return SC_ERR_INVALID;
  unsigned long v = strtoul(p, &end, 10);
  if (*end != '\0' || v == 0 || v > 65535) return SC_ERR_INVALID;
  *ip = ntohl(in.s_addr);
  *port = (uint16_t)v;
  return 0;
}

int rt_addr_resolve(const char *s, uint32_t *ip, uint16_t *port, char *why,
                    size_t whylen) {
  if (rt_addr_parse(s, ip, port) == 0) return 0;
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= RT_ADDR_HOST_MAX) {
    snprintf(why, whylen, "expected HOST:PORT, got '%s'", s);
    return SC_ERR_INVALID;
  }
  char host[RT_ADDR_HOST_MAX];
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  char *end;
  const char *p = colon + 1;
  unsigned long v = (*p >= '0' && *p <= '9') ? strtoul(p, &end, 10) : 0;
  if (v == 0 || v > 65535 || *end != '\0') {
    snprintf(why, whylen, "expected HOST:PORT with PORT 1..65535, got '%s'", s);
    return SC_ERR_INVALID;
  }
  /* Digits and dots are an address, not a name: getaddrinfo would take
   * inet_aton's short forms ("1.2.3" as 1.2.0.3). */
  if (strspn(host, "0123456789.") == strlen(host)) {
    snprintf(why, whylen, "'%s' is not an IPv4 address (A.B.C.D)", host);
    return SC_ERR_INVALID;
  }
  /* IPv4 only, as the wire's addresses are (RT_ADDR_WIRE_LEN). */
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0 || !res) {
    snprintf(why, whylen, "cannot resolve '%s' to an IPv4 address: %s", host,
             rc ? gai_strerror(rc) : "no address");
    return SC_ERR_NOT_FOUND;
  }
  struct sockaddr_in sin;
  memcpy(&sin, res->ai_addr, sizeof sin);
  freeaddrinfo(res);
  *ip = ntohl(sin.sin_addr.s_addr);
  *port = (uint16_t)v;
  return 0;
}

int rt_addr_local_toward(uint32_t ip, uint16_t port, uint32_t *local) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SC_ERR_NOT_FOUND;
  struct sockaddr_in to = {.sin_family = AF_INET};
  to.sin_addr.s_addr = htonl(ip);
  to.sin_port = htons(port);
  struct sockaddr_in me;
  socklen_t ml = sizeof me;
  int rv = SC_ERR_NOT_FOUND;
  if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
      getsockname(fd, (struct sockaddr *)&me, &ml) == 0 && me.sin_addr.s_addr != 0) {
    *local = ntohl(me.sin_addr.s_addr);
    rv = 0;
  }
  close(fd);
  return rv;
}

void rt_addr_format(uint32_t ip, uint16_t port, char *out) {
  snprintf(out, RT_ADDR_STR_MAX, "%u.%u.%u.%u:%u", (unsigned)(ip >> 24),
           (unsigned)(ip >> 16) & 255, (unsigned)(ip >> 8) & 255, (unsigned)ip & 255,
           (unsigned)port);
}
