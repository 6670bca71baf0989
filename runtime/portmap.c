/* portmap.c — see portmap.h. The worker thread owns everything but the
 * result it hands over under the lock; the loop's thread reads that result in
 * the ev_async callback. */
#include "portmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <natpmp.h>

#include "core/err.h"

struct rt_portmap {
  struct ev_loop *loop;
  ev_async wake;
  rt_portmap_done_fn done;
  void *user;
  uint16_t internal_port, want_port;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stopping;          /* under lock */
  rt_portmap_result last; /* under lock: the latest attempt's outcome */
  /* The worker's own: what to undo at the end. */
  enum rt_portmap_method mapped;
  struct UPNPUrls urls;
  struct IGDdatas igd;
  char lan[64]; /* this host's address toward the IGD */
  bool have_igd;
};

const char *rt_portmap_method_name(enum rt_portmap_method m) {
  switch (m) {
  case RT_PORTMAP_NATPMP:
    return "natpmp";
  case RT_PORTMAP_UPNP:
    return "upnp";
  default:
    return "none";
  }
}

/* ------------------------------------------------------------- NAT-PMP */

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits for the answer to the request pending on n, at most wait_ms.
 * Returns libnatpmp's code: 0 with resp filled, or an error. */
static int natpmp_answer(natpmp_t *n, natpmpresp_t *resp, unsigned wait_ms) {
  uint64_t end = mono_ms() + wait_ms;
  int r;
  do {
    struct timeval tv;
    if (getnatpmprequesttimeout(n, &tv) < 0) return -1;
    uint64_t now = mono_ms();
    if (now >= end) return NATPMP_TRYAGAIN;
    uint64_t left = end - now,
             want = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
    if (want > left) want = left;
    tv.tv_sec = (time_t)(want / 1000u);
    tv.tv_usec = (suseconds_t)(want % 1000u) * 1000;
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(n->s, &fds);
    (void)select(n->s + 1, &fds, NULL, NULL, &tv);
    r = readnatpmpresponseorretry(n, resp);
  } while (r == NATPMP_TRYAGAIN);
  return r;
}

/* Maps (lifetime > 0) or unmaps (0) through NAT-PMP. Returns whether the
 * router agreed; r gets the public address and port. */
static bool natpmp_map(rt_portmap *pm, uint32_t lifetime, rt_portmap_result *r, char *why,
                       size_t whylen) {
  natpmp_t n;
  natpmpresp_t resp;
  if (initnatpmp(&n, 0, 0) < 0) {
    snprintf(why, whylen, "NAT-PMP: no default gateway");
    return false;
  }
  bool ok = false;
  int rc = sendpublicaddressrequest(&n);
  if (rc >= 0) rc = natpmp_answer(&n, &resp, RT_PORTMAP_NATPMP_WAIT_MS);
  if (rc < 0 && lifetime > 0) {
    snprintf(why, whylen, "NAT-PMP: the gateway did not answer (%d)", rc);
    goto out;
  }
  if (rc >= 0 && resp.type == NATPMP_RESPTYPE_PUBLICADDRESS)
    r->ext_ip = ntohl(resp.pnu.publicaddress.addr.s_addr);
  /* A deletion names no public port (RFC 6886 §3.4). */
  rc = sendnewportmappingrequest(&n, NATPMP_PROTOCOL_UDP, pm->internal_port,
                                 lifetime ? pm->want_port : 0, lifetime);
  if (rc >= 0) rc = natpmp_answer(&n, &resp, RT_PORTMAP_NATPMP_WAIT_MS);
  if (rc < 0 || resp.type != NATPMP_RESPTYPE_UDPPORTMAPPING) {
    snprintf(why, whylen, "NAT-PMP: mapping refused (%d)", rc);
    goto out;
  }
  r->ext_port = resp.pnu.newportmapping.mappedpublicport;
  r->lease_s = resp.pnu.newportmapping.lifetime;
  ok = true;
out:
  closenatpmp(&n);
  return ok;
}

/* ------------------------------------------------------------- UPnP-IGD */

static bool upnp_map(rt_portmap *pm, rt_portmap_result *r, char *why, size_t whylen) {
  int err = 0;
  if (!pm->have_igd) {
    struct UPNPDev *devs = upnpDiscover(RT_PORTMAP_UPNP_WAIT_MS, NULL, NULL,
                                        UPNP_LOCAL_PORT_ANY, 0, 2, &err);
    char lan[64];
    int igd = devs ? UPNP_GetValidIGD(devs, &pm->urls, &pm->igd, lan, sizeof lan) : 0;
    freeUPNPDevlist(devs);
    if (igd != 1) {
      if (igd) FreeUPNPUrls(&pm->urls);
      snprintf(why, whylen, "UPnP: %s",
               igd ? "the gateway says it is not connected"
                   : "no Internet Gateway Device answered");
      return false;
    }
    pm->have_igd = true;
    snprintf(pm->lan, sizeof pm->lan, "%s", lan);
  }
  char ext[40] = "", port[8], inport[8], lease[16];
  if (UPNP_GetExternalIPAddress(pm->urls.controlURL, pm->igd.first.servicetype, ext) ==
      0) {
    struct in_addr a;
    if (inet_pton(AF_INET, ext, &a) == 1) r->ext_ip = ntohl(a.s_addr);
  }
  snprintf(port, sizeof port, "%u", (unsigned)pm->want_port);
  snprintf(inport, sizeof inport, "%u", (unsigned)pm->internal_port);
  snprintf(lease, sizeof lease, "%u", (unsigned)RT_PORTMAP_LEASE_S);
  int rc = UPNP_AddPortMapping(pm->urls.controlURL, pm->igd.first.servicetype, port,
                               inport, pm->lan, "stripecast", "UDP", NULL, lease);
  if (rc != 0) {
    snprintf(why, whylen, "UPnP: AddPortMapping refused (%d)", rc);
    return false;
  }
  r->ext_port = pm->want_port;
  r->lease_s = RT_PORTMAP_LEASE_S;
  return true;
}

static void upnp_unmap(rt_portmap *pm) {
  char port[8];
  snprintf(port, sizeof port, "%u", (unsigned)pm->want_port);
  (void)UPNP_DeletePortMapping(pm->urls.controlURL, pm->igd.first.servicetype, port,
                               "UDP", NULL);
}

/* ------------------------------------------------------------- the worker */

/* One attempt: NAT-PMP, else UPnP (the one that worked before first). */
static void portmap_attempt(rt_portmap *pm, rt_portmap_result *r) {
  memset(r, 0, sizeof *r);
  char why_pmp[72] = "", why_upnp[72] = "";
  if (pm->mapped != RT_PORTMAP_UPNP &&
      natpmp_map(pm, RT_PORTMAP_LEASE_S, r, why_pmp, sizeof why_pmp)) {
    r->method = RT_PORTMAP_NATPMP;
  } else if (upnp_map(pm, r, why_upnp, sizeof why_upnp)) {
    r->method = RT_PORTMAP_UPNP;
  } else {
    r->method = RT_PORTMAP_NONE;
    snprintf(r->why, sizeof r->why, "%s; %s", why_pmp[0] ? why_pmp : "NAT-PMP: not asked",
             why_upnp);
  }
  pm->mapped = r->method;
}

static void *portmap_main(void *arg) {
  rt_portmap *pm = arg;
  for (;;) {
    rt_portmap_result r;
    portmap_attempt(pm, &r);
    pthread_mutex_lock(&pm->lock);
    pm->last = r;
    pthread_mutex_unlock(&pm->lock);
    ev_async_send(pm->loop, &pm->wake);
    /* Renew at half the lease (retry a failure as often), unless stopped. */
    uint32_t wait_s = (r.lease_s ? r.lease_s : RT_PORTMAP_LEASE_S) / 2;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_s;
    pthread_mutex_lock(&pm->lock);
    while (!pm->stopping)
      if (pthread_cond_timedwait(&pm->cond, &pm->lock, &until) == ETIMEDOUT) break;
    bool stop = pm->stopping;
    pthread_mutex_unlock(&pm->lock);
    if (stop) break;
  }
  /* Leave the router as it was. */
  rt_portmap_result ignored;
  char why[8];
  memset(&ignored, 0, sizeof ignored);
  if (pm->mapped == RT_PORTMAP_NATPMP)
    (void)natpmp_map(pm, 0, &ignored, why, sizeof why);
  else if (pm->mapped == RT_PORTMAP_UPNP)
    upnp_unmap(pm);
  if (pm->have_igd) FreeUPNPUrls(&pm->urls);
  return NULL;
}

static void portmap_wake_cb(struct ev_loop *loop, ev_async *w, int revents) {
  (void)loop;
  (void)revents;
  rt_portmap *pm = w->data;
  pthread_mutex_lock(&pm->lock);
  rt_portmap_result r = pm->last;
  pthread_mutex_unlock(&pm->lock);
  if (pm->done) pm->done(pm->user, &r);
}

int rt_portmap_start(rt_portmap **out, struct ev_loop *loop, uint16_t internal_port,
                     uint16_t want_port, rt_portmap_done_fn done, void *user) {
  *out = NULL;
  rt_portmap *pm = calloc(1, sizeof *pm);
  if (!pm) return SC_ERR_NOMEM;
  pm->loop = loop;
  pm->done = done;
  pm->user = user;
  pm->internal_port = internal_port;
  pm->want_port = want_port;
  pthread_mutex_init(&pm->lock, NULL);
  pthread_cond_init(&pm->cond, NULL);
  ev_async_init(&pm->wake, portmap_wake_cb);
  pm->wake.data = pm;
  ev_async_start(loop, &pm->wake);
  if (pthread_create(&pm->thread, NULL, portmap_main, pm) != 0) {
    ev_async_stop(loop, &pm->wake);
    pthread_cond_destroy(&pm->cond);
    pthread_mutex_destroy(&pm->lock);
    free(pm);
    return SC_ERR_INVALID;
  }
  *out = pm;
  return 0;
}

void rt_portmap_stop(rt_portmap *pm) {
  if (!pm) return;
  pthread_mutex_lock(&pm->lock);
  pm->stopping = true;
  pthread_cond_signal(&pm->cond);
  pthread_mutex_unlock(&pm->lock);
  /* An attempt in progress finishes first: its waits are bounded
   * (RT_PORTMAP_NATPMP_WAIT_MS, RT_PORTMAP_UPNP_WAIT_MS and the IGD's HTTP). */
  pthread_join(pm->thread, NULL);
  ev_async_stop(pm->loop, &pm->wake);
  pthread_cond_destroy(&pm->cond);
  pthread_mutex_destroy(&pm->lock);
  free(pm);
}
