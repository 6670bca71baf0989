/* err.c — error strings (see err.h). */
#include "err.h"

const char *sc_strerror(int code) {
  switch (code) {
  case SC_OK:
    return "success";
  case SC_ERR_INVALID:
    return "invalid argument or malformed input";
  case SC_ERR_TOO_LARGE:
    return "input exceeds a stated bound";
  case SC_ERR_TRUNCATED:
    return "input is truncated";
  case SC_ERR_VERSION:
    return "unknown wire version";
  case SC_ERR_NOBUF:
    return "output buffer too small";
  case SC_ERR_FULL:
    return "table or queue full";
  case SC_ERR_NOT_FOUND:
    return "not found";
  case SC_ERR_NOMEM:
    return "out of memory";
  default:
    return code <= SC_ERR_FATAL ? "fatal error" : "unknown error";
  }
}
