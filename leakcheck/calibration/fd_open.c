/* fd_open.c - a file descriptor left open.
 *
 * Leak: write_log() opens a log file and returns without closing it.
 * Fixed: it closes the file on every path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_log(const char *path, const char *line) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  ssize_t w = write(fd, line, strlen(line));
#ifdef LEAKCHECK_FIXED
  close(fd);
#endif
  return w < 0 ? -1 : 0;
}

int main(void) {
  char path[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/gort-calib-fd-%d.log", tmp && tmp[0] ? tmp : "/tmp",
           (int)getpid());
  int rc = write_log(path, "hello\n");
  unlink(path); /* the name goes; the open fd keeps the file alive */
  return rc == 0 ? 0 : 1;
}
