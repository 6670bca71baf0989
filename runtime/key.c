/* key.c — a station's key on disk (see key.h). */
#include "key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define KEY_FILE_MAX 512 /* a key file is about 170 bytes */

void rt_key_hex(const uint8_t pk[SC_AUTH_PK_BYTES], char out[2 * SC_AUTH_PK_BYTES + 1]) {
  sodium_bin2hex(out, 2 * SC_AUTH_PK_BYTES + 1, pk, SC_AUTH_PK_BYTES);
}

int rt_key_generate(const char *path, rt_key *out, char *err, size_t errlen) {
  uint8_t seed[32];
  randombytes_buf(seed, sizeof seed);
  crypto_sign_seed_keypair(out->pk, out->sk, seed);
  char seedhex[65], pkhex[65];
  sodium_bin2hex(seedhex, sizeof seedhex, seed, sizeof seed);
  rt_key_hex(out->pk, pkhex);
  sodium_memzero(seed, sizeof seed);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
             errno == EEXIST ? " (a key is never overwritten)" : "");
    sodium_memzero(seedhex, sizeof seedhex);
    return -1;
  }
  char buf[KEY_FILE_MAX];
  int n = snprintf(buf, sizeof buf, "stripecast-station-key seed %s\npublic %s\n",
                   seedhex, pkhex);
  sodium_memzero(seedhex, sizeof seedhex);
  /* The mode asked for may be narrowed by the umask, never widened; make
   * sure of 0600 whatever the umask. */
  bool ok = fchmod(fd, 0600) == 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
  int e = errno;
  sodium_memzero(buf, sizeof buf);
  if (close(fd) != 0 && ok) ok = false, e = errno;
  if (!ok) {
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    unlink(path);
    return -1;
  }
  return 0;
}

int rt_key_load(const char *path, rt_key *out, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    snprintf(err, errlen,
             "%s: the key is open to others (mode %04o%s); it must be the owner's "
             "alone: chmod 600 %s",
             path, (unsigned)(st.st_mode & 07777),
             st.st_uid != geteuid() ? ", another user's file" : "", path);
    close(fd);
    return -1;
  }
  char buf[KEY_FILE_MAX + 1];
  ssize_t n = read(fd, buf, KEY_FILE_MAX);
  close(fd);
  if (n < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  buf[n] = '\0';
  char seedhex[65], pkhex[65];
  uint8_t seed[32], pk[SC_AUTH_PK_BYTES];
  int ok =
      sscanf(buf, "stripecast-station-key seed %64s public %64s", seedhex, pkhex) == 2 &&
      sodium_hex2bin(seed, sizeof seed, seedhex, 64, NULL, NULL, NULL) == 0 &&
      sodium_hex2bin(pk, sizeof pk, pkhex, 64, NULL, NULL, NULL) == 0;
  sodium_memzero(buf, sizeof buf);
  sodium_memzero(seedhex, sizeof seedhex);
  if (ok) {
    crypto_sign_seed_keypair(out->pk, out->sk, seed);
    ok = memcmp(out->pk, pk, sizeof pk) == 0;
  }
  sodium_memzero(seed, sizeof seed);
  if (!ok) {
    snprintf(err, errlen, "%s: not a stripecast station key (made by stripecast keygen)",
             path);
    return -1;
  }
  return 0;
}

static int mkdir_owner(const char *dir, char *err, size_t errlen) {
  if (mkdir(dir, 0700) == 0 || errno == EEXIST) return 0;
  snprintf(err, errlen, "%s: %s", dir, strerror(errno));
  return -1;
}

int rt_key_default_path(const char *station, char *out, size_t outlen, char *err,
                        size_t errlen) {
  char dir[RT_KEY_PATH_MAX];
  const char *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  if (xdg && xdg[0] == '/') {
    snprintf(dir, sizeof dir, "%s", xdg);
  } else if (home && home[0] == '/') {
    snprintf(dir, sizeof dir, "%s/.local", home);
    if (mkdir_owner(dir, err, errlen) != 0) return -1;
    snprintf(dir, sizeof dir, "%s/.local/state", home);
  } else {
    snprintf(err, errlen, "neither XDG_STATE_HOME nor HOME is set: give --key FILE");
    return -1;
  }
  if (mkdir_owner(dir, err, errlen) != 0) return -1;
  size_t dl = strlen(dir);
  if (dl + sizeof "/stripecast" > sizeof dir) {
    snprintf(err, errlen, "state directory path too long");
    return -1;
  }
  memcpy(dir + dl, "/stripecast", sizeof "/stripecast");
  if (mkdir_owner(dir, err, errlen) != 0) return -1;
  char name[256];
  const char *s = station[0] == '/' ? station + 1 : station;
  size_t i = 0;
  for (; s[i] && i + 1 < sizeof name; i++)
    name[i] = s[i] == '/' ? '_' : s[i];
  name[i] = '\0';
  if ((size_t)snprintf(out, outlen, "%s/%s.key", dir, name) >= outlen) {
    snprintf(err, errlen, "state directory path too long");
    return -1;
  }
  return 0;
}
