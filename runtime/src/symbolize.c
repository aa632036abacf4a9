/* symbolize.c - names and source lines for the dumps (misuse panics, fatal
 * errors, deadlocks), so that a dump points at the code.
 *
 * Why dlopen: the runtime links only libc, pthreads and C11 atomics
 * (DESIGN.md), yet a panic must name the misuse site the way Go's does, in
 * any program, including one that never loads leakcheck. So the real
 * symboliser, elfutils' libdwfl (Debian's libdw1), is loaded with dlopen the
 * first time a dump needs it: nothing is paid, and nothing is required,
 * until a program is already on its way to abort. libdwfl names functions
 * from the symbol table (static ones too) and gives file:line from DWARF.
 * Without libdw1 the dumps fall back to dladdr: exported names only, else
 * the object and offset, never a wrong name.
 *
 * Not for signal handlers: dlopen and libdwfl allocate. The SIGQUIT dump
 * stays on dladdr (see task.c).
 *
 * Invariants: one libdwfl session at a time, built on first use and ended
 * by gort__symbolize_done after each dump (sym_lock; libdwfl is not
 * thread-safe). It holds no file descriptor
 * (gort_dump_tasks is public, and a leak check must not see one): each
 * object's file is mapped whole, libelf is told it is done with the fd,
 * and the fd is closed; separate debug files are not looked up.
 */
#include <dlfcn.h>
#include <elfutils/libdwfl.h> /* types only: the functions come from dlopen */
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The libdwfl calls we make, resolved by dlsym. */
static struct {
  Dwfl *(*begin)(const Dwfl_Callbacks *);
  void (*end)(Dwfl *);
  int (*proc_report)(Dwfl *, pid_t);
  int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
                    void *);
  Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
  const char *(*addrname)(Dwfl_Module *, GElf_Addr);
  Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
  const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *, Dwarf_Word *);
  /* libelf, a dependency of libdw */
  unsigned (*elf_version)(unsigned);
  Elf *(*elf_begin)(int, Elf_Cmd, Elf *);
  int (*elf_cntl)(Elf *, Elf_Cmd);
} dw;
static Dwfl_Callbacks callbacks;
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *session; /* sym_lock */
static bool tried;    /* sym_lock */

#define LOAD(field, name) (*(void **)&dw.field = dlsym(lib, name)) != NULL

/* find_elf: map the module's file whole and keep no fd (see invariants). */
static int find_elf_nofd(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                         char **file_name, Elf **elfp) {
  (void)mod, (void)userdata, (void)base;
  if (!modname || modname[0] != '/') return -1; /* [vdso]: no file */
  int fd = open(modname, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  Elf *e = dw.elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (e) dw.elf_cntl(e, ELF_C_FDDONE);
  close(fd);
  if (!e) return -1;
  *file_name = strdup(modname);
  *elfp = e;
  return -1;
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file,
                        GElf_Word debuglink_crc, char **debuginfo_file_name) {
  (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
  (void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
  return -1;
}

static bool load_libdw(void);

/* sym_lock held. */
static Dwfl *open_session(void) {
  if (session) return session;
  if (!tried) {
    tried = true;
    if (!load_libdw()) dw.begin = NULL;
  }
  if (!dw.begin) return NULL;
  Dwfl *d = dw.begin(&callbacks);
  if (d && dw.proc_report(d, getpid()) == 0 && dw.report_end(d, NULL, NULL) == 0)
    session = d;
  else if (d)
    dw.end(d);
  return session;
}

void gort__symbolize_done(void) {
  pthread_mutex_lock(&sym_lock);
  if (session) dw.end(session);
  session = NULL;
  pthread_mutex_unlock(&sym_lock);
}

/* sym_lock held. Resolve what we use from libdw.so.1 (and its libelf). */
static bool load_libdw(void) {
  void *lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return false;
  if (!(LOAD(begin, "dwfl_begin") && LOAD(end, "dwfl_end") && LOAD(proc_report, "dwfl_linux_proc_report") &&
        LOAD(report_end, "dwfl_report_end") && LOAD(addrmodule, "dwfl_addrmodule") &&
        LOAD(addrname, "dwfl_module_addrname") && LOAD(getsrc, "dwfl_module_getsrc") &&
        LOAD(lineinfo, "dwfl_lineinfo") && LOAD(elf_version, "elf_version") &&
        LOAD(elf_begin, "elf_begin") && LOAD(elf_cntl, "elf_cntl")))
    return false;
  dw.elf_version(EV_CURRENT);
  callbacks.find_elf = find_elf_nofd;
  callbacks.find_debuginfo = no_debuginfo;
  return true;
}

void gort__symbolize(const void *pc, bool return_address, gort__symbol *out) {
  memset(out, 0, sizeof *out);
  if (!pc) return;
  /* A return address points after the call: look up the call itself. */
  uintptr_t look = (uintptr_t)pc - (return_address ? 1 : 0);
  pthread_mutex_lock(&sym_lock);
  Dwfl *d = open_session();
  Dwfl_Module *m = d ? dw.addrmodule(d, look) : NULL;
  if (m) {
    const char *fn = dw.addrname(m, look);
    if (fn) snprintf(out->function, sizeof out->function, "%s", fn);
    Dwfl_Line *l = dw.getsrc(m, look);
    int line = 0;
    const char *file = l ? dw.lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    if (file && line > 0) {
      snprintf(out->file, sizeof out->file, "%s", file);
      out->line = line;
    }
  }
  pthread_mutex_unlock(&sym_lock);
  Dl_info info;
  if (dladdr((void *)look, &info)) {
    const char *obj = info.dli_fname ? strrchr(info.dli_fname, '/') : NULL;
    snprintf(out->object, sizeof out->object, "%s", obj ? obj + 1 : info.dli_fname ? info.dli_fname : "");
    out->offset = look - (uintptr_t)info.dli_fbase;
    /* Without libdwfl, only an exact exported symbol is trusted: dladdr
     * names the nearest exported one, wrong for a static function. */
    if (!out->function[0] && info.dli_sname && info.dli_saddr &&
        (uintptr_t)info.dli_saddr <= look && !m)
      snprintf(out->function, sizeof out->function, "%s", info.dli_sname);
  }
}

void gort__print_symbol(FILE *out, const gort__symbol *s, const void *pc) {
  if (s->function[0])
    fprintf(out, "%s(...)\n", s->function);
  else if (s->object[0])
    fprintf(out, "%p (%s+0x%lx)\n", pc, s->object, (unsigned long)s->offset);
  else
    fprintf(out, "%p\n", pc);
  if (s->file[0]) fprintf(out, "\t%s:%d\n", s->file, s->line);
}

/* Frames of the runtime itself: its functions carry the gort_ prefix, and
 * its static helpers live in runtime/src. */
static bool runtime_frame(const gort__symbol *s) {
  return strncmp(s->function, "gort_", 5) == 0 || strstr(s->file, "runtime/src/") != NULL;
}

void gort__print_caller_stack(FILE *out) {
  void *pcs[32];
  int n = backtrace(pcs, 32);
  /* pcs[0] is this function; skip it and the runtime frames above the
   * caller, then print the caller's frames up to main or to the runtime's
   * task trampoline, as Go's traceback of a panic shows user frames. */
  int i = 1;
  gort__symbol s;
  for (; i < n; i++) {
    gort__symbolize(pcs[i], true, &s);
    if (!runtime_frame(&s)) break;
  }
  for (; i < n && !runtime_frame(&s); i++) {
    gort__print_symbol(out, &s, pcs[i]);
    if (strcmp(s.function, "main") == 0) break;
    if (i + 1 < n) gort__symbolize(pcs[i + 1], true, &s);
  }
}
