/*
 * directory_record.h — a station's signed announcement for the station
 * directory (core/directory.h), sans I/O.
 *
 * A broadcasting peer describes its station in one record and signs it with
 * the station's Ed25519 key (core/auth.h); every peer checks the signature,
 * and that the public key hashes to the station id (sc_station_key_id), before
 * it lists or passes on the record. The record travels whole and is signed
 * whole, so it is also the form a peer keeps and hands to a newcomer:
 *
 *   record = "SCD1" | public key (32) | seq (u64) | started_unix_s (u64)
 *            | bitrate_kbps (u32) | listeners (u32) | flags (u8)
 *            | name | mount | description | genre | codec
 *            | Ed25519 signature of everything before it (64)
 *   string = length (u8) | UTF-8 bytes, within its SC_DIRECTORY_*_MAX
 *
 * (integers big-endian). seq orders one station's records: a peer keeps the
 * highest and drops older or equal ones, so a replayed record changes
 * nothing. The writer makes seq from the start time and a counter, so a
 * restarted broadcast outranks the one before it.
 */
#ifndef SC_DIRECTORY_RECORD_H
#define SC_DIRECTORY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "id.h"

/* Bytes of each string field (without a terminator). */
#define SC_DIRECTORY_NAME_MAX        64
#define SC_DIRECTORY_MOUNT_MAX       64
#define SC_DIRECTORY_DESCRIPTION_MAX 160
#define SC_DIRECTORY_GENRE_MAX       48
#define SC_DIRECTORY_CODEC_MAX       32
#define SC_DIRECTORY_RECORD_FIXED    (4 + SC_AUTH_PK_BYTES + 8 + 8 + 4 + 4 + 1 + 5)
/* The largest record: 498 bytes, one datagram with room to spare. */
#define SC_DIRECTORY_RECORD_MAX                                                          \
  (SC_DIRECTORY_RECORD_FIXED + SC_DIRECTORY_NAME_MAX + SC_DIRECTORY_MOUNT_MAX +          \
   SC_DIRECTORY_DESCRIPTION_MAX + SC_DIRECTORY_GENRE_MAX + SC_DIRECTORY_CODEC_MAX +      \
   SC_AUTH_SIG_BYTES)

/* flags: the station is broadcasting. A broadcaster that stops says so
 * once (clear), so that it is shown offline at once, not after the stale
 * time. */
#define SC_DIRECTORY_ON_AIR 0x01u

/* What a station says about itself. Strings are NUL-terminated. */
typedef struct sc_directory_info {
  char name[SC_DIRECTORY_NAME_MAX + 1];
  char mount[SC_DIRECTORY_MOUNT_MAX + 1];
  char description[SC_DIRECTORY_DESCRIPTION_MAX + 1];
  char genre[SC_DIRECTORY_GENRE_MAX + 1];
  char codec[SC_DIRECTORY_CODEC_MAX + 1];
  uint32_t bitrate_kbps;
  uint32_t listeners;
  uint64_t started_unix_s; /* the broadcaster's wall clock at its start */
  bool on_air;
} sc_directory_info;

/* A record read back: the station's id and key, its seq and what it says. */
typedef struct sc_directory_record {
  sc_id id; /* sc_station_key_id(pk) */
  uint8_t pk[SC_AUTH_PK_BYTES];
  uint64_t seq;
  sc_directory_info info;
} sc_directory_record;

/*
 * Writes info as a record numbered seq, signed with sk (libsodium's 64-byte
 * Ed25519 secret key, whose second half is the public key), into out
 * (cap >= SC_DIRECTORY_RECORD_MAX is always enough). Returns the record's
 * length, SC_ERR_TOO_LARGE (a string over its bound) or SC_ERR_NOBUF.
 */
int sc_directory_record_sign(const sc_directory_info *info, uint64_t seq,
                             const uint8_t sk[SC_AUTH_SK_BYTES], uint8_t *out,
                             size_t cap);

/*
 * Reads a record from the network: its layout and bounds, every string
 * free of control bytes, and, with check_sig, its signature. out is filled
 * only on success. Returns 0 or SC_ERR_INVALID (malformed, or a signature
 * that does not hold: a forgery either way).
 */
int sc_directory_record_parse(const uint8_t *data, size_t datalen, bool check_sig,
                              sc_directory_record *out);

#endif
