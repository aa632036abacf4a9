/* lc_sym.c - from code addresses to names: function (ELF symbol tables and
 * dladdr), file:line (addr2line, in the reporting path only).
 *
 * Each loaded object's function symbols are read once from its file
 * (.symtab when the file is not stripped, else .dynsym), sorted by address
 * and cached for the life of the process under sym_lock; dladdr is only the
 * fallback for objects whose file cannot be read. Runtime address =
 * load bias (dl_iterate_phdr's dlpi_addr) + symbol value. Static functions,
 * which dladdr cannot name, are found this way as long as the binary keeps
 * its .symtab (gort builds with -g and does not strip).
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lc_internal.h"

extern char **environ;

typedef struct {
  uintptr_t addr; /* link-time value */
  size_t size;
  uint32_t name; /* offset in strtab */
} lc_sym;

typedef struct lc_obj {
  char path[PATH_MAX];
  uintptr_t bias;
  lc_sym *syms; /* sorted by addr */
  size_t n;
  char *strtab;
  size_t strsize;
  struct lc_obj *next;
} lc_obj;

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static lc_obj *objs; /* sym_lock; never freed */

/* ---- ELF reading ---- */

typedef struct {
  const unsigned char *base;
  size_t size;
  const Elf64_Shdr *sh;
  size_t shnum;
} lc_elf;

static int elf_open(const char *path, lc_elf *e) {
  memset(e, 0, sizeof *e);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    close(fd);
    return -1;
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return -1;
  e->base = m;
  e->size = (size_t)st.st_size;
  const Elf64_Ehdr *h = m;
  if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 || h->e_ident[EI_CLASS] != ELFCLASS64 ||
      h->e_shoff == 0 || h->e_shentsize != sizeof(Elf64_Shdr) ||
      h->e_shoff + (uint64_t)h->e_shnum * sizeof(Elf64_Shdr) > e->size) {
    munmap(m, e->size);
    return -1;
  }
  e->sh = (const Elf64_Shdr *)(e->base + h->e_shoff);
  e->shnum = h->e_shnum;
  return 0;
}

static void elf_close(lc_elf *e) {
  if (e->base) munmap((void *)e->base, e->size);
  e->base = NULL;
}

/* The symbol table of the given type and its string table, bounds-checked. */
static bool elf_symtab(const lc_elf *e, uint32_t type, const Elf64_Sym **syms, size_t *n,
                       const char **str, size_t *strsize) {
  for (size_t i = 0; i < e->shnum; i++) {
    const Elf64_Shdr *s = &e->sh[i];
    if (s->sh_type != type || s->sh_entsize != sizeof(Elf64_Sym)) continue;
    if (s->sh_link >= e->shnum) continue;
    const Elf64_Shdr *st = &e->sh[s->sh_link];
    if (s->sh_offset + s->sh_size > e->size || st->sh_offset + st->sh_size > e->size) continue;
    *syms = (const Elf64_Sym *)(e->base + s->sh_offset);
    *n = s->sh_size / sizeof(Elf64_Sym);
    *str = (const char *)(e->base + st->sh_offset);
    *strsize = st->sh_size;
    return true;
  }
  return false;
}

static int cmp_sym(const void *a, const void *b) {
  uintptr_t x = ((const lc_sym *)a)->addr, y = ((const lc_sym *)b)->addr;
  return x < y ? -1 : x > y;
}

static void obj_load(lc_obj *o) {
  lc_elf e;
  if (elf_open(o->path, &e) != 0) return;
  const Elf64_Sym *syms;
  size_t n, strsize;
  const char *str;
  if (!elf_symtab(&e, SHT_SYMTAB, &syms, &n, &str, &strsize) &&
      !elf_symtab(&e, SHT_DYNSYM, &syms, &n, &str, &strsize)) {
    elf_close(&e);
    return;
  }
  o->syms = malloc((n ? n : 1) * sizeof *o->syms);
  o->strtab = malloc(strsize ? strsize : 1);
  if (!o->syms || !o->strtab) {
    free(o->syms);
    free(o->strtab);
    o->syms = NULL;
    o->strtab = NULL;
    elf_close(&e);
    return;
  }
  memcpy(o->strtab, str, strsize);
  o->strsize = strsize;
  for (size_t i = 0; i < n; i++) {
    unsigned type = ELF64_ST_TYPE(syms[i].st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) || syms[i].st_shndx == SHN_UNDEF ||
        syms[i].st_value == 0 || syms[i].st_name >= strsize)
      continue;
    o->syms[o->n++] = (lc_sym){syms[i].st_value, syms[i].st_size, syms[i].st_name};
  }
  qsort(o->syms, o->n, sizeof *o->syms, cmp_sym);
  elf_close(&e);
}

bool gort__lc_elf_has_symbol(const char *path, const char *sym) {
  lc_elf e;
  if (elf_open(path, &e) != 0) return false;
  bool found = false;
  const uint32_t types[2] = {SHT_SYMTAB, SHT_DYNSYM};
  for (int t = 0; t < 2 && !found; t++) {
    const Elf64_Sym *syms;
    size_t n, strsize;
    const char *str;
    if (!elf_symtab(&e, types[t], &syms, &n, &str, &strsize)) continue;
    size_t len = strlen(sym);
    for (size_t i = 0; i < n && !found; i++) {
      size_t off = syms[i].st_name;
      found = syms[i].st_shndx != SHN_UNDEF && off + len < strsize &&
              memcmp(str + off, sym, len) == 0 && str[off + len] == '\0';
    }
  }
  elf_close(&e);
  return found;
}

/* ---- which object holds a pc ---- */

typedef struct {
  uintptr_t pc;
  bool found;
  uintptr_t bias;
  char path[PATH_MAX];
} lc_where;

static int find_object_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  lc_where *w = arg;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (w->pc >= lo && w->pc < lo + ph->p_memsz) {
      w->found = true;
      w->bias = info->dlpi_addr;
      const char *name = info->dlpi_name;
      if (!name || !name[0]) {
        /* The main program. */
        ssize_t r = readlink("/proc/self/exe", w->path, sizeof w->path - 1);
        w->path[r > 0 ? r : 0] = '\0';
      } else {
        gort__lc_copy(w->path, sizeof w->path, name);
      }
      return 1;
    }
  }
  return 0;
}

static bool find_object(uintptr_t pc, lc_where *w) {
  memset(w, 0, sizeof *w);
  w->pc = pc;
  dl_iterate_phdr(find_object_cb, w);
  return w->found && w->path[0];
}

/* The cached object for (path, bias); sym_lock held. */
static lc_obj *get_obj(const lc_where *w) {
  for (lc_obj *o = objs; o; o = o->next)
    if (o->bias == w->bias && strcmp(o->path, w->path) == 0) return o;
  lc_obj *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  gort__lc_copy(o->path, sizeof o->path, w->path);
  o->bias = w->bias;
  if (strncmp(o->path, "linux-vdso", 10) != 0) obj_load(o);
  o->next = objs;
  objs = o;
  return o;
}

static bool obj_lookup(const lc_obj *o, uintptr_t pc, char *name, size_t size) {
  if (!o->n) return false;
  uintptr_t a = pc - o->bias;
  size_t lo = 0, hi = o->n; /* first symbol with addr > a */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (o->syms[mid].addr <= a)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Among symbols at or below a, take the nearest that covers a. */
  for (size_t i = lo; i-- > 0;) {
    const lc_sym *s = &o->syms[i];
    if (s->size == 0 || a < s->addr + s->size) {
      gort__lc_copy(name, size, o->strtab + s->name);
      return true;
    }
    if (lo - i > 8) break; /* nested symbols are rare; do not walk far */
  }
  return false;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

bool gort__lc_function_name(const void *pc, char *name, size_t size) {
  if (size) name[0] = '\0';
  if (!pc) return false;
  lc_where w;
  if (find_object((uintptr_t)pc, &w)) {
    pthread_mutex_lock(&sym_lock);
    lc_obj *o = get_obj(&w);
    bool ok = o && obj_lookup(o, (uintptr_t)pc, name, size);
    pthread_mutex_unlock(&sym_lock);
    if (ok || (o && o->n)) return ok;
  }
  /* Only for an object whose file we could not read: dladdr names the
   * nearest exported symbol below pc, which for a static function is the
   * wrong one, so it is the last resort. */
  Dl_info info;
  if (dladdr(pc, &info) && info.dli_sname) {
    gort__lc_copy(name, size, info.dli_sname);
    return true;
  }
  return false;
}

/* ---- addr2line ---- */

int gort__lc_parse_addr2line(const char **text, char *function, size_t fsize, char *file,
                             size_t filesize, int *line) {
  const char *p = *text;
  const char *nl = strchr(p, '\n');
  if (!nl) return -1;
  size_t len = (size_t)(nl - p);
  char fn[512];
  if (len >= sizeof fn) len = sizeof fn - 1;
  memcpy(fn, p, len);
  fn[len] = '\0';
  p = nl + 1;
  nl = strchr(p, '\n');
  if (!nl) return -1;
  len = (size_t)(nl - p);
  char loc[1024];
  if (len >= sizeof loc) len = sizeof loc - 1;
  memcpy(loc, p, len);
  loc[len] = '\0';
  *text = nl + 1;
  /* "file.c:12 (discriminator 3)" -> file.c, 12; "??:0" / "??:?" unknown. */
  char *disc = strstr(loc, " (discriminator");
  if (disc) *disc = '\0';
  char *colon = strrchr(loc, ':');
  *line = 0;
  if (colon) {
    *colon = '\0';
    *line = atoi(colon + 1);
  }
  gort__lc_copy(function, fsize, strcmp(fn, "??") != 0 ? fn : "");
  gort__lc_copy(file, filesize, strcmp(loc, "??") != 0 ? loc : "");
  return 0;
}

static bool symbolize_allowed(void) {
  const char *e = getenv("GORT_LEAKCHECK_SYMBOLIZE");
  return !(e && strcmp(e, "0") == 0);
}

#define LC_INLINE_MAX 8

/* What addr2line -i says about one address: innermost function first. */
typedef struct {
  int n;
  struct {
    char function[128];
    char file[256];
    int line;
  } level[LC_INLINE_MAX];
} lc_lines;

/* Run `addr2line -a -f -i -C -e path addrs...` (link-time addresses) and
 * fill out[i] for each address. */
static void run_addr2line(const char *path, const uintptr_t *addrs, size_t n, lc_lines **out) {
  char **argv = calloc(n + 8, sizeof *argv);
  char *abuf = malloc(n * 24);
  if (!argv || !abuf) goto out;
  size_t k = 0;
  argv[k++] = "addr2line";
  argv[k++] = "-a";
  argv[k++] = "-f";
  argv[k++] = "-i";
  argv[k++] = "-C";
  argv[k++] = "-e";
  argv[k++] = (char *)path;
  for (size_t i = 0; i < n; i++) {
    snprintf(abuf + i * 24, 24, "0x%lx", (unsigned long)addrs[i]);
    argv[k++] = abuf + i * 24;
  }
  argv[k] = NULL;
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) goto out;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, "addr2line", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pfd[1]);
  if (rc != 0) {
    close(pfd[0]);
    goto out;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (len + 1024 > cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(pfd[0], buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(pfd[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (buf) {
    buf[len] = '\0';
    const char *p = buf;
    long cur = -1;
    while (*p) {
      if (p[0] == '0' && p[1] == 'x') { /* -a: a new address's group */
        cur++;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
        continue;
      }
      if (cur < 0 || (size_t)cur >= n) break;
      char fn[128], file[256];
      int line;
      if (gort__lc_parse_addr2line(&p, fn, sizeof fn, file, sizeof file, &line) != 0) break;
      lc_lines *l = out[cur];
      if (l->n < LC_INLINE_MAX) {
        gort__lc_copy(l->level[l->n].function, sizeof l->level[0].function, fn);
        gort__lc_copy(l->level[l->n].file, sizeof l->level[0].file, line > 0 ? file : "");
        l->level[l->n].line = line > 0 ? line : 0;
        l->n++;
      }
    }
    free(buf);
  }
out:
  free(argv);
  free(abuf);
}

size_t gort__lc_symbolize(void *const *pcs, size_t n, bool first_is_exact,
                          gort_leakcheck_frame *frames, size_t max) {
  size_t alloc = n ? n : 1;
  lc_where *where = calloc(alloc, sizeof *where);
  lc_lines *lines = calloc(alloc, sizeof *lines);
  gort_leakcheck_frame *base = calloc(alloc, sizeof *base);
  if (!where || !lines || !base) {
    free(where);
    free(lines);
    free(base);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    gort_leakcheck_frame *f = &base[i];
    f->pc = pcs[i];
    /* A return address points after the call; look up the call itself. */
    uintptr_t look = (uintptr_t)pcs[i];
    if (look && !(i == 0 && first_is_exact)) look -= 1;
    gort__lc_function_name((void *)look, f->function, sizeof f->function);
    if (find_object(look, &where[i]))
      gort__lc_copy(f->object, sizeof f->object, base_name(where[i].path));
    where[i].pc = look;
  }
  if (symbolize_allowed()) {
    /* One addr2line per object. */
    bool *done = calloc(alloc, sizeof *done);
    uintptr_t *addrs = malloc(alloc * sizeof *addrs);
    lc_lines **group = malloc(alloc * sizeof *group);
    if (done && addrs && group) {
      for (size_t i = 0; i < n; i++) {
        if (done[i] || !where[i].found || strncmp(where[i].path, "linux-vdso", 10) == 0) continue;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
          if (done[j] || !where[j].found || strcmp(where[j].path, where[i].path) != 0) continue;
          done[j] = true;
          addrs[k] = where[j].pc - where[j].bias;
          group[k++] = &lines[j];
        }
        run_addr2line(where[i].path, addrs, k, group);
      }
    }
    free(done);
    free(addrs);
    free(group);
  }
  /* Expand inlined calls into frames of their own, innermost first, as a
   * debugger shows them; the outermost keeps the symbol table's name. */
  size_t out = 0;
  for (size_t i = 0; i < n && out < max; i++) {
    const lc_lines *l = &lines[i];
    if (l->n == 0) {
      frames[out++] = base[i];
      continue;
    }
    for (int k = 0; k < l->n && out < max; k++) {
      gort_leakcheck_frame *f = &frames[out++];
      *f = base[i];
      bool outer = k == l->n - 1;
      if (!outer || !f->function[0])
        gort__lc_copy(f->function, sizeof f->function, l->level[k].function);
      gort__lc_copy(f->file, sizeof f->file, l->level[k].file);
      f->line = l->level[k].line;
    }
  }
  free(where);
  free(lines);
  free(base);
  return out;
}
