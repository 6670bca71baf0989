/*
 * key.h — a station's Ed25519 key on disk (stripecast keygen, broadcast
 * --key): made with libsodium's randomness, kept owner-only, refused when
 * others may read it (docs/broadcast.md, "Signed stations").
 *
 * The file is two lines of text:
 *   stripecast-station-key seed <64 hex digits>
 *   public <64 hex digits>
 * The seed is RFC 8032's 32-byte private key; the public line is checked
 * against it when read.
 */
#ifndef SC_RUNTIME_KEY_H
#define SC_RUNTIME_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"

#define RT_KEY_PATH_MAX 4096

typedef struct rt_key {
  uint8_t pk[SC_AUTH_PK_BYTES];
  uint8_t sk[SC_AUTH_SK_BYTES];
} rt_key;

/* Makes a key and writes it to path, created owner-only (0600); an existing
 * file is never overwritten. Returns 0, or -1 with a one-line reason in err. */
int rt_key_generate(const char *path, rt_key *out, char *err, size_t errlen);
/* Reads the key at path. Refuses a file that is not a regular file owned by
 * this user, or that its group or others may read or write. Returns 0, or -1
 * with a reason in err. */
int rt_key_load(const char *path, rt_key *out, char *err, size_t errlen);
/* Where a broadcast without --key keeps its station's key:
 * $XDG_STATE_HOME/stripecast/NAME.key, else ~/.local/state/stripecast/NAME.key
 * (NAME without its leading '/', other '/' as '_'). Creates the directories
 * (0700). Returns 0, or -1 with a reason in err. */
int rt_key_default_path(const char *station, char *out, size_t outlen, char *err,
                        size_t errlen);
/* The public key in 64 lowercase hex digits and a NUL. */
void rt_key_hex(const uint8_t pk[SC_AUTH_PK_BYTES], char out[2 * SC_AUTH_PK_BYTES + 1]);

#endif
