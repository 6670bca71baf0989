/*
 * playlist.c — see playlist.h. Icecast 2.4's playlist shapes are those of
 * its fserve.c (m3u) and admin/xspf.xsl (xspf).
 */
#include "http/playlist.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 301:
    return "Moved Permanently";
  case 400:
    return "Bad Request";
  case 401:
    return "Authentication Required";
  case 403:
    return "Forbidden";
  case 404:
    return "File Not Found";
  case 405:
    return "Method Not Allowed";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

int sc_http_write_head(const sc_http_server_info *srv, int status,
                       const char *content_type, long long content_length,
                       const char *extra, char *out, size_t cap) {
  char date[128] = "", clen[48] = "";
  if (srv->date != NULL) {
    int d = snprintf(date, sizeof date, "Date: %s\r\n", srv->date);
    if (d < 0 || (size_t)d >= sizeof date) return SC_ERR_INVALID;
  }
  if (content_length >= 0)
    snprintf(clen, sizeof clen, "Content-Length: %lld\r\n", content_length);
  int n = snprintf(out, cap,
                   "HTTP/1.0 %d %s\r\nServer: %s\r\nConnection: Close\r\n%s"
                   "Content-Type: %s\r\n%s"
                   "Cache-Control: no-cache, no-store\r\n"
                   "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
                   "Pragma: no-cache\r\n%s\r\n",
                   status, reason(status), srv->server_id, date, content_type, clen,
                   extra ? extra : "");
  if (n < 0 || (size_t)n >= cap) return SC_ERR_NOBUF;
  return n;
}

/* Appends the body after a head; returns the total length. */
static int body(char *out, size_t cap, int head, const char *fmt_out, size_t len) {
  if (head < 0) return head;
  if (len >= cap - (size_t)head) return SC_ERR_NOBUF;
  memcpy(out + head, fmt_out, len);
  out[(size_t)head + len] = '\0';
  return head + (int)len;
}

int sc_http_write_m3u(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                      char *out, size_t cap) {
  char b[1024];
  int n = snprintf(b, sizeof b, "http://%s%s\r\n", e->host, e->mount);
  if (n < 0 || (size_t)n >= sizeof b) return SC_ERR_NOBUF;
  return body(out, cap, sc_http_write_head(srv, 200, "audio/x-mpegurl", -1, "", out, cap),
              b, (size_t)n);
}

int sc_http_write_pls(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                      char *out, size_t cap) {
  char b[2048];
  const char *title = e->name && e->name[0] ? e->name : e->mount;
  int n = snprintf(b, sizeof b,
                   "[playlist]\r\nNumberOfEntries=1\r\nFile1=http://%s%s\r\n"
                   "Title1=%s\r\nLength1=-1\r\nVersion=2\r\n",
                   e->host, e->mount, title);
  if (n < 0 || (size_t)n >= sizeof b) return SC_ERR_NOBUF;
  return body(out, cap, sc_http_write_head(srv, 200, "audio/x-scpls", -1, "", out, cap),
              b, (size_t)n);
}

/* XML text: &, <, >, ", ' escaped; control bytes but tab and line ends
 * dropped (XML 1.0 §2.2 does not allow them). */
static size_t xml_esc(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; s && *s; s++) {
    unsigned char ch = (unsigned char)*s;
    const char *rep = NULL;
    char one[2] = {(char)ch, 0};
    if (ch == '&')
      rep = "&amp;";
    else if (ch == '<')
      rep = "&lt;";
    else if (ch == '>')
      rep = "&gt;";
    else if (ch == '"')
      rep = "&quot;";
    else if (ch == '\'')
      rep = "&apos;";
    else if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
      continue;
    else
      rep = one;
    size_t l = strlen(rep);
    if (o + l + 1 > cap) break;
    memcpy(out + o, rep, l);
    o += l;
  }
  if (cap) out[o < cap ? o : cap - 1] = '\0';
  return o;
}

int sc_http_write_xspf(const sc_http_server_info *srv, const sc_http_playlist_entry *e,
                       char *out, size_t cap) {
  char server[512], host[512], mount[1024], name[1024], title[2048], type[512];
  xml_esc(server, sizeof server, srv->server_id);
  xml_esc(host, sizeof host, e->host);
  xml_esc(mount, sizeof mount, e->mount);
  xml_esc(name, sizeof name, e->name);
  xml_esc(title, sizeof title, e->title);
  xml_esc(type, sizeof type, e->content_type);
  char b[6144];
  int n = snprintf(b, sizeof b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<playlist xmlns=\"http://xspf.org/ns/0/\" version=\"1\">\n"
                   "  <title>%s</title>\n"
                   "  <creator>%s</creator>\n"
                   "  <trackList>\n"
                   "    <track>\n"
                   "      <location>http://%s%s</location>\n"
                   "      <title>%s</title>\n"
                   "      <annotation>%s%s%sContent Type:%s\n</annotation>\n"
                   "    </track>\n"
                   "  </trackList>\n"
                   "</playlist>\n",
                   server, server, host, mount, title, name[0] ? "Stream Title: " : "",
                   name, name[0] ? "\n" : "", type);
  if (n < 0 || (size_t)n >= sizeof b) return SC_ERR_NOBUF;
  return body(out, cap,
              sc_http_write_head(srv, 200, "application/xspf+xml; charset=utf-8", -1, "",
                                 out, cap),
              b, (size_t)n);
}
