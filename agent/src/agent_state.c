/* State directory with crash-safe generations (see agent_state.h). */
#include "agent_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GEN_PREFIX "gen-"
#define STAGING_PREFIX ".staging-"

__attribute__((format(printf, 3, 4))) static cp_result io_fail(char *err, size_t err_size,
                                                                const char *fmt, ...) {
  int saved = errno;
  if (err && err_size) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < err_size)
      snprintf(err + n, err_size - (size_t)n, ": %s", strerror(saved));
  }
  errno = saved;
  return CP_ERR_IO;
}

/* dir + "/" + name into out; -1 (ENAMETOOLONG) when it does not fit. */
static int path_join(char *out, size_t size, const char *dir, const char *name) {
  int n = snprintf(out, size, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static int write_all_fd(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int write_new_file(const char *path, const void *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return -1;
  /* umask may have narrowed it; never widen it beyond mode either */
  if (fchmod(fd, mode) != 0 || write_all_fd(fd, data, len) != 0 || fsync(fd) != 0) {
    int saved = errno;
    close(fd);
    unlink(path);
    errno = saved;
    return -1;
  }
  return close(fd);
}

static int rm_tree_shallow(const char *path) {
  DIR *d = opendir(path);
  if (!d) return errno == ENOENT ? 0 : -1;
  struct dirent *e;
  char p[PATH_MAX];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (path_join(p, sizeof p, path, e->d_name) != 0) continue;
    unlink(p);
  }
  closedir(d);
  return rmdir(path);
}

static int dir_dirname(const char *path, char *out, size_t out_size) {
  const char *slash = strrchr(path, '/');
  if (!slash) return snprintf(out, out_size, ".") < 0 ? -1 : 0;
  size_t n = (size_t)(slash - path);
  if (n == 0) n = 1;
  if (n >= out_size) return -1;
  memcpy(out, path, n);
  out[n] = '\0';
  return 0;
}

cp_result cpa_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode) {
  char tmp[PATH_MAX], dir[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp) return CP_ERR_IO;
  if (dir_dirname(path, dir, sizeof dir) != 0) return CP_ERR_IO;
  unlink(tmp);
  if (write_new_file(tmp, data, len, (mode_t)mode) != 0) return CP_ERR_IO;
  if (rename(tmp, path) != 0) {
    unlink(tmp);
    return CP_ERR_IO;
  }
  if (fsync_path(dir) != 0) return CP_ERR_IO;
  return CP_OK;
}

/* gen-NNNNNNNN → N; -1 when not a generation name. */
static long gen_number(const char *name) {
  if (strncmp(name, GEN_PREFIX, strlen(GEN_PREFIX)) != 0) return -1;
  const char *p = name + strlen(GEN_PREFIX);
  if (strlen(p) != 8) return -1;
  long n = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    n = n * 10 + (*p - '0');
  }
  return n;
}

cp_result cpa_state_init(const char *dir, char *err, size_t err_size) {
  if (!dir || !*dir) return CP_ERR_INVALID_ARG;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return io_fail(err, err_size, "%s: cannot create state directory", dir);
  DIR *d = opendir(dir);
  if (!d) return io_fail(err, err_size, "%s: cannot open state directory", dir);
  struct dirent *e;
  char p[PATH_MAX];
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0 ||
        (strstr(e->d_name, ".tmp-") != NULL && strncmp(e->d_name, GEN_PREFIX, 4) != 0)) {
      if (path_join(p, sizeof p, dir, e->d_name) != 0) continue;
      if (rm_tree_shallow(p) != 0) unlink(p);
    }
  }
  closedir(d);
  return CP_OK;
}

static long max_generation(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  long best = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long n = gen_number(e->d_name);
    if (n > best) best = n;
  }
  closedir(d);
  return best;
}

cp_result cpa_state_stage(const char *dir, cpa_generation *gen, char *err, size_t err_size) {
  if (!dir || !gen || gen->key_len == 0 || gen->chain_len == 0) return CP_ERR_INVALID_ARG;
  char staging[PATH_MAX], p[PATH_MAX], final_path[PATH_MAX];
  if (snprintf(staging, sizeof staging, "%s/" STAGING_PREFIX "%ld", dir, (long)getpid()) >= (int)sizeof staging)
    return CP_ERR_IO;
  rm_tree_shallow(staging);
  if (mkdir(staging, 0700) != 0) return io_fail(err, err_size, "%s: mkdir", staging);
  struct {
    const char *name;
    const char *data;
    size_t len;
    mode_t mode;
  } files[] = {
      {"key.pem", gen->key_pem, gen->key_len, 0600},
      {"chain.pem", gen->chain_pem, gen->chain_len, 0644},
      {"meta.json", gen->meta_json, gen->meta_len, 0644},
  };
  for (size_t i = 0; i < 3; i++) {
    if (path_join(p, sizeof p, staging, files[i].name) != 0 ||
        write_new_file(p, files[i].data, files[i].len, files[i].mode) != 0) {
      cp_result r = io_fail(err, err_size, "%s: write", p);
      rm_tree_shallow(staging);
      return r;
    }
  }
  if (chmod(staging, 0755) != 0 || fsync_path(staging) != 0) {
    cp_result r = io_fail(err, err_size, "%s: fsync", staging);
    rm_tree_shallow(staging);
    return r;
  }
  long next = max_generation(dir);
  if (next < 0) {
    cp_result r = io_fail(err, err_size, "%s: scan", dir);
    rm_tree_shallow(staging);
    return r;
  }
  char name[CPA_GEN_NAME_MAX];
  snprintf(name, sizeof name, GEN_PREFIX "%08ld", (next + 1) % 100000000L);
  if (path_join(final_path, sizeof final_path, dir, name) != 0) return CP_ERR_IO;
  if (rename(staging, final_path) != 0 || fsync_path(dir) != 0) {
    cp_result r = io_fail(err, err_size, "%s: rename to %s", staging, name);
    rm_tree_shallow(staging);
    return r;
  }
  snprintf(gen->name, sizeof gen->name, "%s", name);
  return CP_OK;
}

static int read_link_name(const char *dir, const char *link, char *out, size_t out_size) {
  char p[PATH_MAX];
  if (path_join(p, sizeof p, dir, link) != 0) return -1;
  ssize_t n = readlink(p, out, out_size - 1);
  if (n < 0) return -1;
  out[n] = '\0';
  return gen_number(out) >= 0 ? 0 : -1;
}

static int set_link(const char *dir, const char *link, const char *target) {
  char tmp[PATH_MAX], p[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", dir, link, (long)getpid()) >= (int)sizeof tmp) return -1;
  if (path_join(p, sizeof p, dir, link) != 0) return -1;
  unlink(tmp);
  if (symlink(target, tmp) != 0) return -1;
  if (rename(tmp, p) != 0) {
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
  }
  return 0;
}

static void remove_stale_generations(const char *dir) {
  char cur[CPA_GEN_NAME_MAX] = "", prev[CPA_GEN_NAME_MAX] = "";
  if (read_link_name(dir, "current", cur, sizeof cur) != 0) return; /* never prune blind */
  read_link_name(dir, "previous", prev, sizeof prev);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[PATH_MAX];
  while ((e = readdir(d)) != NULL) {
    if (gen_number(e->d_name) < 0) continue;
    if (strcmp(e->d_name, cur) == 0 || strcmp(e->d_name, prev) == 0) continue;
    if (path_join(p, sizeof p, dir, e->d_name) != 0) continue;
    rm_tree_shallow(p);
  }
  closedir(d);
  fsync_path(dir);
}

cp_result cpa_state_activate(const char *dir, const char *name, char *err, size_t err_size) {
  if (!dir || !name || gen_number(name) < 0) return CP_ERR_INVALID_ARG;
  char p[PATH_MAX], cur[CPA_GEN_NAME_MAX];
  struct stat st;
  if (path_join(p, sizeof p, dir, name) != 0) return CP_ERR_IO;
  if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) return CP_ERR_NOT_FOUND;
  if (read_link_name(dir, "current", cur, sizeof cur) == 0 && strcmp(cur, name) != 0) {
    if (set_link(dir, "previous", cur) != 0)
      return io_fail(err, err_size, "%s: cannot point previous at %s", dir, cur);
  }
  if (set_link(dir, "current", name) != 0)
    return io_fail(err, err_size, "%s: cannot point current at %s", dir, name);
  if (fsync_path(dir) != 0) return io_fail(err, err_size, "%s: fsync", dir);
  remove_stale_generations(dir);
  return CP_OK;
}

cp_result cpa_state_discard(const char *dir, const char *name) {
  if (!dir || !name || gen_number(name) < 0) return CP_ERR_INVALID_ARG;
  char cur[CPA_GEN_NAME_MAX] = "", prev[CPA_GEN_NAME_MAX] = "";
  read_link_name(dir, "current", cur, sizeof cur);
  read_link_name(dir, "previous", prev, sizeof prev);
  if (strcmp(cur, name) == 0 || strcmp(prev, name) == 0) return CP_ERR_STATE;
  char p[PATH_MAX];
  if (path_join(p, sizeof p, dir, name) != 0) return CP_ERR_IO;
  if (rm_tree_shallow(p) != 0) return CP_ERR_IO;
  fsync_path(dir);
  return CP_OK;
}

cp_result cpa_state_commit(const char *dir, cpa_generation *gen, char *err, size_t err_size) {
  cp_result r = cpa_state_stage(dir, gen, err, err_size);
  if (r != CP_OK) return r;
  r = cpa_state_activate(dir, gen->name, err, err_size);
  if (r != CP_OK) cpa_state_discard(dir, gen->name);
  return r;
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t total = 0;
  for (;;) {
    if (total + 1 >= cap) {
      close(fd);
      errno = EFBIG;
      return -1;
    }
    ssize_t n = read(fd, buf + total, cap - 1 - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0) break;
    total += (size_t)n;
  }
  close(fd);
  buf[total] = '\0';
  *len = total;
  return 0;
}

static cp_result load_generation(const char *dir, const char *name, cpa_pair_check_fn check,
                                 void *ctx, cpa_generation *out) {
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s/%s/key.pem", dir, name) >= (int)sizeof p) return CP_ERR_NOT_FOUND;
  if (read_file(p, out->key_pem, sizeof out->key_pem, &out->key_len) != 0) return CP_ERR_NOT_FOUND;
  if (snprintf(p, sizeof p, "%s/%s/chain.pem", dir, name) >= (int)sizeof p) return CP_ERR_NOT_FOUND;
  if (read_file(p, out->chain_pem, sizeof out->chain_pem, &out->chain_len) != 0) return CP_ERR_NOT_FOUND;
  if (snprintf(p, sizeof p, "%s/%s/meta.json", dir, name) >= (int)sizeof p ||
      read_file(p, out->meta_json, sizeof out->meta_json, &out->meta_len) != 0) {
    out->meta_json[0] = '\0';
    out->meta_len = 0;
  }
  if (out->key_len == 0 || out->chain_len == 0) return CP_ERR_NOT_FOUND;
  if (check) {
    cp_result r = check(ctx, out->key_pem, out->key_len, out->chain_pem, out->chain_len);
    if (r != CP_OK) return r;
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  return CP_OK;
}

static int cmp_desc(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x < y) - (x > y);
}

cp_result cpa_state_load(const char *dir, cpa_pair_check_fn check, void *ctx,
                         cpa_generation *out, char *err, size_t err_size) {
  if (!dir || !out) return CP_ERR_INVALID_ARG;
  char name[CPA_GEN_NAME_MAX];
  if (read_link_name(dir, "current", name, sizeof name) == 0 &&
      load_generation(dir, name, check, ctx, out) == CP_OK)
    return CP_OK;
  /* current missing or unusable: fall back, newest first, and repair the link */
  long nums[256];
  size_t n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return CP_ERR_NOT_FOUND;
    return io_fail(err, err_size, "%s: cannot open state directory", dir);
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < sizeof nums / sizeof nums[0]) {
    long g = gen_number(e->d_name);
    if (g >= 0) nums[n++] = g;
  }
  closedir(d);
  qsort(nums, n, sizeof nums[0], cmp_desc);
  char prev[CPA_GEN_NAME_MAX];
  int have_prev = read_link_name(dir, "previous", prev, sizeof prev) == 0;
  if (have_prev && load_generation(dir, prev, check, ctx, out) == CP_OK) {
    set_link(dir, "current", prev);
    fsync_path(dir);
    return CP_OK;
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(name, sizeof name, GEN_PREFIX "%08ld", nums[i]);
    if (load_generation(dir, name, check, ctx, out) == CP_OK) {
      set_link(dir, "current", name);
      fsync_path(dir);
      return CP_OK;
    }
  }
  return CP_ERR_NOT_FOUND;
}
