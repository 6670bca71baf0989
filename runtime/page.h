/*
 * page.h — the station's own page (core/station.h, "The station's page"):
 * read from the broadcaster's --page DIR at start, and served by every peer
 * with --http at /page/ beside its own page.
 *
 * The files are the broadcaster's, served from each listener's origin, so
 * every answer carries RT_PAGE_CSP: a sandboxed document (an origin of its
 * own, no scripts) cannot read or script the peer's pages, and nosniff
 * keeps an image an image.
 */
#ifndef SC_RUNTIME_PAGE_H
#define SC_RUNTIME_PAGE_H

#include <stddef.h>
#include <stdint.h>

struct rt_serve;

/* The headers of every /page/ answer. Scripts, plugins, forms and frames
 * are off; images, styles and fonts come from the page itself (or data:
 * URLs), audio and video from this peer (the station's mount). */
#define RT_PAGE_CSP                                                                      \
  "sandbox allow-popups; default-src 'none'; img-src 'self' data:; "                     \
  "style-src 'self' 'unsafe-inline'; font-src 'self' data:; media-src 'self'; "          \
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
#define RT_PAGE_HEADERS                                                                  \
  "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: " RT_PAGE_CSP "\r\n"      \
  "Referrer-Policy: no-referrer\r\n"

/*
 * Reads dir's regular files (one level: a subdirectory is refused) into a
 * bundle (sc_station_page_encode), *out malloc'd. Every file must have a
 * safe name (sc_station_page_name_ok), a served type (its extension:
 * sc_station_page_type_of), index.html must be there, at most
 * SC_STATION_PAGE_FILES_MAX files and SC_STATION_PAGE_MAX bytes in all.
 * Returns 0, or -1 with a message naming the file and the rule in err.
 */
int rt_page_load(const char *dir, uint8_t **out, size_t *len, char *err, size_t errlen);

/* Adds /page and /page/NAME to s (NAME "" is index.html). Returns 0 or
 * rt_serve_add_route's error. */
int rt_page_add_routes(struct rt_serve *s);

#endif
