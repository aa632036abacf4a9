/* lc_proc.c - what /proc says about the process: its threads and fds.
 *
 * Everything here is a snapshot that may be stale when it returns: threads
 * exit and fds close while we read. A thread or fd that vanishes between
 * the listing and the detail read is skipped, never reported. The parsers
 * are pure functions of their text so that golden data can test them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_internal.h"

ssize_t gort__lc_read_file(const char *path, char *buf, size_t size) {
  if (size == 0) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len < size - 1) {
    ssize_t r = read(fd, buf + len, size - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* ---- threads ---- */

#define LC_PF_EXITING 0x4ULL /* include/linux/sched.h; stable since 2.6 */

int gort__lc_parse_stat(const char *text, gort__lc_thread *out) {
  memset(out, 0, sizeof *out);
  char *end;
  long tid = strtol(text, &end, 10);
  if (end == text || tid <= 0 || *end != ' ' || end[1] != '(') return -1;
  /* comm is whatever lies between the first '(' and the last ')'. */
  const char *open_paren = end + 1;
  const char *close_paren = strrchr(open_paren, ')');
  if (!close_paren) return -1;
  size_t len = (size_t)(close_paren - open_paren - 1);
  if (len >= sizeof out->comm) len = sizeof out->comm - 1;
  memcpy(out->comm, open_paren + 1, len);
  out->comm[len] = '\0';
  const char *p = close_paren + 1;
  if (*p != ' ' || p[1] == '\0' || (p[2] != ' ' && p[2] != '\0')) return -1;
  out->state = p[1];
  p += 2;
  /* Fields 4..21 precede starttime (field 22); field 9 is the kernel's
   * task flags, where PF_EXITING says the thread has entered exit. */
  for (int field = 4; field <= 22; field++) {
    while (*p == ' ') p++;
    if (*p == '\0') return -1;
    if (field == 9) out->exiting = (strtoull(p, NULL, 10) & LC_PF_EXITING) != 0;
    if (field == 22) {
      out->starttime = strtoull(p, &end, 10);
      if (end == p) return -1;
      break;
    }
    while (*p && *p != ' ') p++;
  }
  out->tid = (pid_t)tid;
  return 0;
}

const char *gort__lc_thread_state_name(char state) {
  switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk sleep";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'Z': return "zombie";
    case 'X': return "dead";
    case 'I': return "idle";
    case 'P': return "parked";
    default: return "unknown";
  }
}

static bool all_digits(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

int gort__lc_list_tids(pid_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  size_t cap = 32, len = 0;
  pid_t *v = malloc(cap * sizeof *v);
  if (!v) {
    closedir(d);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!all_digits(e->d_name)) continue;
    if (len == cap) {
      pid_t *nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free(v);
        closedir(d);
        return -1;
      }
      v = nv;
      cap *= 2;
    }
    v[len++] = (pid_t)atol(e->d_name);
  }
  closedir(d);
  *out = v;
  *n = len;
  return 0;
}

int gort__lc_read_thread(pid_t tid, gort__lc_thread *out) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  if (gort__lc_read_file(path, buf, sizeof buf) <= 0) return -1;
  return gort__lc_parse_stat(buf, out);
}

/* ---- file descriptors ---- */

const char *gort__lc_fd_type(const char *t) {
  if (strncmp(t, "pipe:", 5) == 0) return "pipe";
  if (strncmp(t, "socket:", 7) == 0) return "socket";
  if (strncmp(t, "anon_inode:", 11) == 0) {
    const char *k = t + 11;
    if (*k == '[') k++;
    if (strncmp(k, "eventfd", 7) == 0) return "eventfd";
    if (strncmp(k, "timerfd", 7) == 0) return "timerfd";
    if (strncmp(k, "signalfd", 8) == 0) return "signalfd";
    if (strncmp(k, "eventpoll", 9) == 0) return "epoll";
    if (strncmp(k, "inotify", 7) == 0) return "inotify";
    return "anon_inode";
  }
  if (strncmp(t, "/memfd:", 7) == 0) return "memfd";
  return "file";
}

int gort__lc_parse_fdinfo(const char *text, long long *pos, unsigned *flags) {
  bool have_pos = false, have_flags = false;
  for (const char *line = text; line && *line;) {
    if (strncmp(line, "pos:", 4) == 0) have_pos = sscanf(line + 4, "%lld", pos) == 1;
    if (strncmp(line, "flags:", 6) == 0) have_flags = sscanf(line + 6, "%o", flags) == 1;
    line = strchr(line, '\n');
    if (line) line++;
  }
  return have_pos && have_flags ? 0 : -1;
}

const char *gort__lc_fd_access(unsigned flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "read end";
    case O_WRONLY: return "write end";
    default: return "read-write";
  }
}

int gort__lc_list_fds(gort__lc_fd **out, size_t *n) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int self = dirfd(d);
  /* Valgrind keeps its own fds above the client's soft limit. */
  long limit = -1;
  if (gort__lc_on_valgrind()) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      limit = (long)rl.rlim_cur;
  }
  size_t cap = 16, len = 0;
  gort__lc_fd *v = malloc(cap * sizeof *v);
  if (!v) {
    closedir(d);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!all_digits(e->d_name)) continue;
    int fd = atoi(e->d_name);
    if (fd == self || (limit >= 0 && fd >= limit)) continue;
    gort__lc_fd rec;
    memset(&rec, 0, sizeof rec);
    rec.fd = fd;
    ssize_t r = readlinkat(self, e->d_name, rec.target, sizeof rec.target - 1);
    if (r < 0) continue; /* closed meanwhile */
    rec.target[r] = '\0';
    struct stat st;
    if (fstat(fd, &st) != 0) continue;
    rec.dev = (unsigned long long)st.st_dev;
    rec.ino = (unsigned long long)st.st_ino;
    if (len == cap) {
      gort__lc_fd *nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free(v);
        closedir(d);
        return -1;
      }
      v = nv;
      cap *= 2;
    }
    v[len++] = rec;
  }
  closedir(d);
  *out = v;
  *n = len;
  return 0;
}
