/*
 * linkstress.h — link stress on the transit-stub model: how many copies of
 * one message cross each physical link (splitstream-pastry-scribe.md, "The
 * SplitStream evaluation", figure 4; the Scribe paper defines the metric).
 *
 * Physical links are the router links of the net's topology (ids
 * 0 .. sim_topo_links-1, as topology.h numbers them) plus one access link
 * per peer, between the peer and its stub router: id sim_topo_links + peer.
 * Link stress is per undirected link: a copy in either direction counts once.
 *
 * A message sent from one peer to another crosses the sender's access link,
 * the router links of a shortest path between their stub routers, and the
 * receiver's access link; two peers on the same stub router cross their two
 * access links only. To count "one message per stripe" over a forest, call
 * sim_linkstress_add once per (parent, child, stripe) edge.
 *
 * The summary's mean is over the links that carry at least one copy, as the
 * Scribe and SplitStream papers report it: links nobody uses would otherwise
 * dilute the mean by a factor that depends on the topology's size, not on
 * the protocol. The two baselines of the paper's link-stress table (a central
 * server unicasting every stripe to every peer, and IP multicast) are computed
 * on the same routers by sim_linkstress_central_server and
 * sim_linkstress_ip_multicast.
 *
 * Memory: one uint32 counter per link, (sim_topo_links + peers_max) × 4
 * bytes (~190 KB for GATech and 40,000 peers). sim_linkstress_add costs,
 * per router hop, one load from the topology's next-hop matrix and a scan of
 * that router's few neighbours (sim_topo_link_between); it never allocates.
 */
#ifndef SIM_LINKSTRESS_H
#define SIM_LINKSTRESS_H

#include <stdint.h>
#include <stdio.h>

#include "sim/netmodel.h"

typedef struct sim_linkstress sim_linkstress;

typedef struct sim_linkstress_summary {
  uint64_t links_used;   /* physical links (router or access) with ≥ 1 copy */
  double mean;           /* total_copies / links_used; NaN when links_used is 0 */
  uint64_t max;          /* copies on the most loaded link; 0 when none used */
  uint64_t total_copies; /* copies summed over all links (link traversals) */
  uint32_t max_link;     /* the lowest link id carrying `max`; UINT32_MAX if none */
} sim_linkstress_summary;

/* Creates zeroed counters for net's router links and the access links of
 * peers 0 .. peers_max-1. net is borrowed and must outlive the object (and
 * its peers must be placed before they are counted). On success *out owns
 * the object (free with sim_linkstress_del). Errors: SC_ERR_INVALID (out or
 * net NULL, net not SIM_NET_TRANSIT_STUB, peers_max 0 or above
 * sim_net_peers_max(net)), SC_ERR_NOMEM. *out is untouched on error. */
int sim_linkstress_new(sim_linkstress **out, const sim_net *net, uint32_t peers_max);

/* Frees ls; NULL is a no-op. */
void sim_linkstress_del(sim_linkstress *ls);

/* Zeroes every counter (to count another message). */
void sim_linkstress_reset(sim_linkstress *ls);

/* Counts one copy of a message sent from from_peer to to_peer: from's access
 * link, each router link of a shortest path between their routers, and to's
 * access link. from == to counts nothing (the copy never leaves the host).
 * The router path walked is sim_topo_path_foreach from the lower-numbered
 * router to the higher one: every shortest path has the same latency, but
 * when two are tied, walking the pair in one canonical order makes the
 * counts independent of the direction, as an undirected metric should be.
 * Counters saturate at UINT32_MAX. Asserts both peers < peers_max and
 * placed. No allocation. */
void sim_linkstress_add(sim_linkstress *ls, uint32_t from_peer, uint32_t to_peer);

/* Number of link ids: sim_topo_links + peers_max. */
uint32_t sim_linkstress_links(const sim_linkstress *ls);

/* The access link id of peer: sim_topo_links + peer. Asserts peer < peers_max. */
uint32_t sim_linkstress_access_link(const sim_linkstress *ls, uint32_t peer);

/* Copies counted on link so far. Asserts link < sim_linkstress_links(ls). */
uint32_t sim_linkstress_copies(const sim_linkstress *ls, uint32_t link);

/* Summarizes the counters (see sim_linkstress_summary). O(links). */
void sim_linkstress_summarize(const sim_linkstress *ls, sim_linkstress_summary *out);

/* Writes "link,kind,copies" and one line per link with copies > 0, in link
 * id order; kind is "router" or "access" (an access link's peer is
 * link - sim_topo_links). Returns SC_OK, or SC_ERR_INVALID (ls or f NULL);
 * a write error is left on f's error indicator for the caller's ferror(f). */
int sim_linkstress_write_csv(const sim_linkstress *ls, FILE *f);

/* Baseline: a central server at peer `source` unicasts each of `stripes`
 * stripes to every peer of peers[0 .. npeers-1] (entries equal to source are
 * skipped; duplicates count twice). Every link then carries stripes × (the
 * receivers whose unicast crosses it), so the maximum is the source's access
 * link, stripes × receivers (16 × 39,999 = 639,984 in the paper's setting).
 * Errors: SC_ERR_INVALID (net or out NULL, net not transit-stub, stripes 0,
 * peers NULL with npeers > 0, source or a peer out of range or not placed),
 * SC_ERR_NOMEM. *out is untouched on error. */
int sim_linkstress_central_server(const sim_net *net, uint32_t source,
                                  const uint32_t *peers, uint32_t npeers,
                                  uint32_t stripes, sim_linkstress_summary *out);

/* Baseline: IP multicast of each stripe from `source` to peers[0 ..
 * npeers-1] (source skipped, duplicates once): one copy per stripe on every
 * link of the distribution tree and on every member's access link, so the
 * maximum and the mean are both `stripes`. The tree is the one real IP
 * multicast builds (reverse-path forwarding, as in DVMRP and PIM source
 * trees): the union of the router paths from each receiver's router toward
 * the source's router. Those paths share their suffixes, so the union is a
 * tree and no router gets two copies. Errors: as
 * sim_linkstress_central_server. */
int sim_linkstress_ip_multicast(const sim_net *net, uint32_t source,
                                const uint32_t *peers, uint32_t npeers, uint32_t stripes,
                                sim_linkstress_summary *out);

#endif
