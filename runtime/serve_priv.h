/*
 * serve_priv.h — what serve.c (connections, routes) and serve_station.c
 * (the station's records, the burst, the players' queues) share.
 */
#ifndef SC_RUNTIME_SERVE_PRIV_H
#define SC_RUNTIME_SERVE_PRIV_H

#include "serve.h"

enum serve_state {
  SERVE_HEAD = 1, /* reading the request head */
  SERVE_STREAM,   /* a player */
  SERVE_ANSWER,   /* writing a whole answer, then closing */
};

/* The head buffer: Icecast's head limit plus one byte, so that a head that
 * reaches the limit without ending is seen as too large. */
#define SERVE_HEAD_BUF_BYTES (SC_HTTP_ICECAST_HEAD_MAX_BYTES + 1)
/* The head buffer starts this large and doubles up to SERVE_HEAD_BUF_BYTES:
 * players' heads are a few hundred bytes, and a 4 KiB buffer a connection,
 * cut down once the head is in, left a page-sized hole in the heap each. */
#define SERVE_HEAD_FIRST_BYTES 512
#define SERVE_ADDR_BYTES       24 /* "255.255.255.255:65535" */
/* A player's queue starts this large and doubles up to its bound. */
#define SERVE_QUEUE_FIRST_BYTES ((size_t)16 << 10)

typedef struct serve_conn {
  rt_serve *s;
  size_t slot; /* index in s->conns */
  enum serve_state state;
  int fd;
  ev_io io;
  ev_timer timer;
  uint64_t deadline_ns;
  char addr[SERVE_ADDR_BYTES];
  /* Up to SERVE_HEAD_BUF_BYTES while the head is read; a player's is then cut to
   * head_len (listclients reads its User-Agent), so that a thousand players
   * do not each hold a head buffer. */
  char *head;
  size_t head_len, head_cap;
  /* SERVE_ANSWER: the response. */
  char *ans;
  size_t ans_len, ans_off;
  bool write_shut; /* the answer is out and the write side shut */
  /* SERVE_STREAM: the queue, a ring that grows to cfg.queue_bytes and is
   * freed whenever the socket took all of it: a player that keeps up holds
   * no queue between records (the kernel's send buffer holds its bytes). */
  uint8_t *q;
  size_t qcap, qhead, qlen;
  bool dead;         /* the queue overflowed: close after the fan-out */
  bool send_failed;  /* a send failed (the player is gone): close after the fan-out */
  bool ending;       /* the broadcast ended: close once the queue is out */
  bool gap;          /* resume at the next sync point */
  uint64_t hdr_sent; /* the station's hdr_ver this player has */
  int metaint;       /* 0: no ICY metadata */
  int meta_left;     /* audio bytes before the next metadata block */
  uint64_t title_sent;
  uint64_t id;       /* the connection's number since start (listclients' ID) */
  uint64_t since_ns; /* accepted then */
} serve_conn;

/* One record of the burst. */
typedef struct serve_rec {
  struct serve_rec *next;
  uint64_t t_ns; /* arrival */
  bool sync;
  size_t len;
  uint8_t data[];
} serve_rec;

typedef struct serve_route {
  char pattern[SC_HTTP_MOUNT_MAX_BYTES + 2];
  size_t len;
  bool prefix;
  rt_serve_handler_fn fn;
  void *ctx;
} serve_route;

struct rt_serve {
  struct ev_loop *loop;
  rt_serve_config cfg;
  int lfd;
  ev_io lio;
  uint16_t port;
  char bound[SERVE_ADDR_BYTES]; /* "ADDR:PORT" */
  serve_conn *conns[RT_SERVE_CONNS_MAX];
  uint32_t nconns, npending, nlisteners;
  serve_route routes[RT_SERVE_ROUTES_MAX];
  size_t nroutes;
  struct rt_ingest *ingest;
  rt_serve_stats st;
  uint64_t started_ns;
  char rbuf[RT_SERVE_READ_BYTES];

  /* The station. */
  sc_station_reader *reader;
  sc_station_reader_stats rs;
  bool info_seen, need_headers, headers_seen, new_link, gap, ended;
  char session[24];
  char content_type[SC_HTTP_STATION_FIELD_MAX_BYTES + 1];
  bool icy;     /* the type carries ICY metadata (sc_http_content_type_has_icy) */
  uint8_t *hdr; /* the codec headers players get */
  size_t hdr_len;
  uint64_t hdr_ver;   /* bumped when they change or a new link begins */
  uint64_t title_ver; /* bumped when the title changes */
  uint8_t title[SC_STATION_TITLE_MAX];
  size_t title_len;
  serve_rec *burst, *burst_tail;
  size_t burst_bytes, burst_count;

  /* The broadcaster's tee (rt_serve_tee_sink). */
  sc_node *tee_node;
  uint8_t *gen_buf;
  size_t gen_bytes, gen_fill;
  uint64_t tee_gen;
};

uint64_t serve_now_ns(void);
void serve_log(const rt_serve *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void serve_conn_close(serve_conn *c);
/* Answers with a whole response (data: malloc'd, taken over) and closes
 * once it is written and read. */
void serve_conn_answer(serve_conn *c, char *data, size_t len);
/* Closes the connection at deadline_ns (CLOCK_MONOTONIC) unless it closes
 * before. */
void serve_conn_deadline(serve_conn *c, uint64_t deadline_ns);
/* Writes what the player's queue holds; false when the connection failed. */
bool serve_conn_flush(serve_conn *c);
/* Inserts RT_SERVE_EXTRA_HEADERS into the head in data[0..len) where
 * Icecast writes them; returns the new length (len when it did not fit). */
size_t serve_add_extra_headers(char *data, size_t len, size_t cap);

/* serve_route.c: a complete (or over-long) head in c->head. */
void serve_dispatch(serve_conn *c);

/* serve_station.c */
int serve_station_init(rt_serve *s);
void serve_station_free(rt_serve *s);
/* The station can be served: 0, or SC_ERR_NOT_FOUND while nothing is known
 * of it (Icecast's 404 for a mount without a source). */
bool serve_station_known(const rt_serve *s);
/* A player was accepted: head written into its queue; queue the codec
 * headers and the burst. */
void serve_station_attach(rt_serve *s, serve_conn *c);
/* Writes the listener head for req into out; sets *metaint. */
int serve_station_head(rt_serve *s, const rt_serve_request *req, char *out, size_t cap,
                       int *metaint);
/* A player's bytes: sent at once when its queue is empty (no copy), the rest
 * queued; false when the queue overflowed (dead) or a send failed. */
bool serve_queue_put(serve_conn *c, const void *data, size_t len);

#endif
