/*
 * page.c — the station's own page (page.h): --page DIR read into a bundle,
 * and the /page/ routes every peer with --http answers.
 */
#include "page.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/station.h"
#include "serve.h"

/* ------------------------------------------------------------ --page DIR */

static int page_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int page_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* The files read so far: their names, sizes and bytes. */
typedef struct page_dir {
  sc_station_page_file files[SC_STATION_PAGE_FILES_MAX];
  uint8_t *bytes[SC_STATION_PAGE_FILES_MAX];
  size_t n, total;
} page_dir;

static void page_dir_free(page_dir *d) {
  for (size_t i = 0; i < d->n; i++)
    free(d->bytes[i]);
}

/* Reads path (size bytes) into a new buffer. */
static int read_whole(const char *path, size_t size, uint8_t **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t *b = malloc(size ? size : 1);
  bool ok = b && fread(b, 1, size, f) == size && fgetc(f) == EOF;
  fclose(f);
  if (!ok) {
    free(b);
    return -1;
  }
  *out = b;
  return 0;
}

/* One entry of the directory: checked, then read. */
static int page_add(page_dir *d, const char *dir, const char *name, char *err,
                    size_t errlen) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
    return page_err(err, errlen, "--page %s: path too long", dir);
  struct stat st;
  if (stat(path, &st) != 0)
    return page_err(err, errlen, "--page: %s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return page_err(err, errlen,
                    "--page: %s is a directory (the page is the files of one "
                    "directory, no subdirectories)",
                    path);
  if (!S_ISREG(st.st_mode))
    return page_err(err, errlen, "--page: %s is not a regular file", path);
  if (!sc_station_page_name_ok(name, strlen(name)))
    return page_err(err, errlen,
                    "--page: %s: a file's name is 1..%d of A-Z a-z 0-9 . _ - and does "
                    "not start with '.'",
                    path, SC_STATION_PAGE_NAME_MAX);
  sc_station_page_type type = sc_station_page_type_of(name);
  if (!type)
    return page_err(err, errlen,
                    "--page: %s: not a type the page serves (.html .htm .css .png .jpg "
                    ".jpeg .gif .svg .webp .ico .txt)",
                    path);
  if (d->n == SC_STATION_PAGE_FILES_MAX)
    return page_err(err, errlen, "--page %s: more than %d files", dir,
                    SC_STATION_PAGE_FILES_MAX);
  /* A file costs its bytes, its name and 6 bytes of framing (station.h). */
  size_t cost = (size_t)st.st_size + strlen(name) + 6;
  if ((uint64_t)st.st_size > SC_STATION_PAGE_MAX || d->total + cost > SC_STATION_PAGE_MAX)
    return page_err(err, errlen,
                    "--page: %s (%lld bytes) takes the page over its %zu bytes (all "
                    "files, with 6 bytes and the name of each)",
                    path, (long long)st.st_size, SC_STATION_PAGE_MAX);
  sc_station_page_file *f = &d->files[d->n];
  if (read_whole(path, (size_t)st.st_size, &d->bytes[d->n]) != 0)
    return page_err(err, errlen, "--page: %s: cannot be read whole", path);
  snprintf(f->name, sizeof f->name, "%s", name);
  f->type = type;
  f->data = d->bytes[d->n];
  f->len = (size_t)st.st_size;
  d->n++;
  d->total += cost;
  return 0;
}

static int not_dots(const struct dirent *e) {
  return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

/* The entries in name order: the same directory makes the same bundle and
 * the same error, whatever the file system's order. */
static int page_read_dir(page_dir *d, const char *dir, char *err, size_t errlen) {
  struct dirent **list;
  int n = scandir(dir, &list, not_dots, alphasort);
  if (n < 0) return page_err(err, errlen, "--page %s: %s", dir, strerror(errno));
  int rv = 0;
  for (int i = 0; i < n; i++) {
    if (rv == 0) rv = page_add(d, dir, list[i]->d_name, err, errlen);
    free(list[i]);
  }
  free(list);
  return rv;
}

int rt_page_load(const char *dir, uint8_t **out, size_t *len, char *err, size_t errlen) {
  static page_dir d; /* 16 file slots; read once at start */
  memset(&d, 0, sizeof d);
  d.total = 2; /* the bundle's version and count */
  int rv = page_read_dir(&d, dir, err, errlen);
  bool index = false;
  for (size_t i = 0; rv == 0 && i < d.n; i++)
    index = index || strcmp(d.files[i].name, SC_STATION_PAGE_INDEX) == 0;
  if (rv == 0 && !index)
    rv = page_err(err, errlen, "--page %s: no %s in it (the page's first file)", dir,
                  SC_STATION_PAGE_INDEX);
  uint8_t *b = rv == 0 ? malloc(d.total) : NULL;
  if (rv == 0 && !b) rv = page_err(err, errlen, "--page %s: out of memory", dir);
  int n = rv == 0 ? sc_station_page_encode(d.files, d.n, b, d.total) : 0;
  if (rv == 0 && n < 0) rv = page_err(err, errlen, "--page %s: %s", dir, sc_strerror(n));
  page_dir_free(&d);
  if (rv != 0) {
    free(b);
    return -1;
  }
  *out = b;
  *len = (size_t)n;
  return 0;
}

/* ------------------------------------------------------------ /page/ */

/* /page (no slash): to /page/, so that the page's relative links work. */
static int page_redirect(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  (void)ctx;
  return rt_serve_respond(req, out, 301, "text/plain; charset=utf-8",
                          "Location: /page/\r\n", "/page/\n", 7);
}

static int page_route(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  (void)ctx;
  static const char prefix[] = "/page/";
  const char *name = req->path + sizeof prefix - 1;
  if (!*name) name = SC_STATION_PAGE_INDEX;
  const uint8_t *bundle;
  size_t blen;
  rt_serve_page(req->server, &bundle, &blen);
  sc_station_page_file f;
  if (sc_station_page_find(bundle, blen, name, &f) != SC_OK)
    return rt_serve_respond_error(req, out, 404, "Not Found");
  return rt_serve_respond(req, out, 200, sc_station_page_mime(f.type), RT_PAGE_HEADERS,
                          f.data, f.len);
}

int rt_page_add_routes(rt_serve *s) {
  int rv = rt_serve_add_route(s, "/page", page_redirect, NULL);
  return rv == 0 ? rt_serve_add_route(s, "/page/*", page_route, NULL) : rv;
}
