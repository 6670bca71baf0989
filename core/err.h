/*
 * err.h — error codes shared by every core module.
 *
 * Errors are negative ints (ngtcp2's convention). Codes at or below
 * SC_ERR_FATAL mean the object can no longer be used; the others describe one
 * failed call and leave the object as it was.
 */
#ifndef SC_ERR_H
#define SC_ERR_H

enum {
  SC_OK = 0,
  SC_ERR_INVALID = -1,   /* an argument or input is malformed */
  SC_ERR_TOO_LARGE = -2, /* input exceeds a stated bound */
  SC_ERR_TRUNCATED = -3, /* input ends early */
  SC_ERR_VERSION = -4,   /* unknown wire version */
  SC_ERR_NOBUF = -5,     /* an output buffer is too small */
  SC_ERR_FULL = -6,      /* a bounded table or queue is full */
  SC_ERR_NOT_FOUND = -7, /* no such entry */
  SC_ERR_FATAL = -500,   /* codes at or below this are fatal */
  SC_ERR_NOMEM = -501,   /* the allocator failed */
};

/* A static, human-readable description of code. */
const char *sc_strerror(int code);

#endif
