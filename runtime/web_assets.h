/*
 * web_assets.h — the files of web/ compiled into the binary (cmake/embed.cmake
 * writes the table at build time), so every peer serves its page with no file
 * to install and nothing fetched from elsewhere.
 */
#ifndef SC_RUNTIME_WEB_ASSETS_H
#define SC_RUNTIME_WEB_ASSETS_H

#include <stddef.h>

typedef struct rt_web_asset {
  const char *path; /* its URL path: "/" and its name in web/ */
  const unsigned char *data;
  size_t len;
  const char *etag; /* quoted, from its SHA-256: changes with its bytes */
} rt_web_asset;

extern const rt_web_asset rt_web_assets[];
extern const unsigned rt_web_assets_count;

#endif
