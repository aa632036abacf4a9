/* lc_sym.c - from code addresses to names and source lines, through
 * elfutils (libdwfl, libdw, libelf), in the reporting path.
 *
 * One Dwfl session describes this process (dwfl_linux_proc_report: every
 * mapped object, the main program included). Function names come from each
 * object's symbol table (dwfl_module_addrname: .symtab when the file keeps
 * it, so static functions are named), file:line from its DWARF line table,
 * and inlined calls from its DWARF scopes (dwarf_getscopes), expanded into
 * frames of their own as a debugger shows them.
 *
 * Invariants:
 *  - The session lives under sym_lock (libdwfl is not thread-safe) from
 *    the first lookup of a check to gort__lc_sym_release at its end, and is
 *    rebuilt when a pc falls outside every module it knows (a library
 *    dlopen'ed since). Kept longer, its memory would be Valgrind's
 *    "possibly lost" at exit.
 *  - It holds no file descriptor between calls: the fd layer would see one.
 *    Our find_elf callback maps each file whole (ELF_C_READ_MMAP), tells
 *    libelf it is done with the fd (ELF_C_FDDONE) and closes it; separate
 *    debug files are not looked up (the standard callback keeps their fds).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_internal.h"

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *session; /* sym_lock */

/* ---- ELF files, for the command: no process needed ---- */

static Elf *elf_open(const char *path, int *fd) {
  elf_version(EV_CURRENT);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return NULL;
  Elf *e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
  if (!e || elf_kind(e) != ELF_K_ELF) {
    if (e) elf_end(e);
    close(*fd);
    return NULL;
  }
  return e;
}

static void elf_close(Elf *e, int fd) {
  elf_end(e);
  close(fd);
}

bool gort__lc_elf_is_dynamic(const char *path) {
  int fd;
  Elf *e = elf_open(path, &fd);
  if (!e) return false;
  size_t n = 0;
  bool dynamic = false;
  if (elf_getphdrnum(e, &n) == 0)
    for (size_t i = 0; i < n && !dynamic; i++) {
      GElf_Phdr ph;
      dynamic = gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP;
    }
  elf_close(e, fd);
  return dynamic;
}

bool gort__lc_elf_has_symbol(const char *path, const char *sym) {
  int fd;
  Elf *e = elf_open(path, &fd);
  if (!e) return false;
  bool found = false;
  for (Elf_Scn *scn = elf_nextscn(e, NULL); scn && !found; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
        sh.sh_entsize == 0)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize && !found; i++) {
      GElf_Sym s;
      if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF) continue;
      const char *name = elf_strptr(e, sh.sh_link, s.st_name);
      found = name && strcmp(name, sym) == 0;
    }
  }
  elf_close(e, fd);
  return found;
}

/* ---- the session ---- */

/* find_elf: map the module's file whole and keep no fd (see invariants). */
static int find_elf_nofd(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                         char **file_name, Elf **elfp) {
  (void)mod;
  (void)userdata;
  (void)base;
  if (!modname || modname[0] != '/') return -1; /* [vdso] and friends: no file */
  int fd;
  Elf *e = elf_open(modname, &fd);
  if (!e) return -1;
  elf_cntl(e, ELF_C_FDDONE);
  close(fd);
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

static const Dwfl_Callbacks callbacks = {
    .find_elf = find_elf_nofd,
    .find_debuginfo = no_debuginfo,
};

/* sym_lock held. The module holding pc, (re)building the session when none
 * does. NULL when pc is in no mapped object. */
static Dwfl_Module *module_of(uintptr_t pc) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (!session) {
      session = dwfl_begin(&callbacks);
      if (!session) return NULL;
      if (dwfl_linux_proc_report(session, getpid()) != 0 || dwfl_report_end(session, NULL, NULL) != 0) {
        dwfl_end(session);
        session = NULL;
        return NULL;
      }
    }
    Dwfl_Module *m = dwfl_addrmodule(session, pc);
    if (m) return m;
    dwfl_end(session); /* a library mapped since: look again */
    session = NULL;
  }
  return NULL;
}

void gort__lc_sym_release(void) {
  pthread_mutex_lock(&sym_lock);
  if (session) dwfl_end(session);
  session = NULL;
  pthread_mutex_unlock(&sym_lock);
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

bool gort__lc_function_name(const void *pc, char *name, size_t size) {
  if (size) name[0] = '\0';
  if (!pc) return false;
  pthread_mutex_lock(&sym_lock);
  Dwfl_Module *m = module_of((uintptr_t)pc);
  const char *s = m ? dwfl_module_addrname(m, (uintptr_t)pc) : NULL;
  if (s) gort__lc_copy(name, size, s);
  pthread_mutex_unlock(&sym_lock);
  return s != NULL;
}

/* ---- inlined calls ---- */

/* The name of a subprogram or inlined call, through its abstract origin. */
static const char *scope_name(Dwarf_Die *die) {
  Dwarf_Attribute a;
  const char *n = NULL;
  if (dwarf_attr_integrate(die, DW_AT_name, &a)) n = dwarf_formstring(&a);
  return n;
}

static bool is_function_scope(Dwarf_Die *die) {
  int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* Where an inlined call was made: DW_AT_call_file / DW_AT_call_line. */
static void call_site(Dwarf_Die *inlined, Dwarf_Die *cu, const char **file, int *line) {
  Dwarf_Attribute a;
  Dwarf_Word w;
  *file = NULL;
  *line = 0;
  Dwarf_Files *files;
  size_t nfiles;
  if (dwarf_attr(inlined, DW_AT_call_file, &a) && dwarf_formudata(&a, &w) == 0 &&
      dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && w < nfiles)
    *file = dwarf_filesrc(files, w, NULL, NULL);
  if (dwarf_attr(inlined, DW_AT_call_line, &a) && dwarf_formudata(&a, &w) == 0) *line = (int)w;
}

/* sym_lock held. The compile unit holding look. libdw finds it through
 * .debug_aranges, which clang does not emit by default: then walk the
 * module's units. */
static Dwarf_Die *cu_at(Dwfl_Module *m, Dwarf_Addr look, Dwarf_Addr *bias) {
  Dwarf_Die *cu = dwfl_module_addrdie(m, look, bias);
  for (cu = cu ? cu : dwfl_module_nextcu(m, NULL, bias); cu; cu = dwfl_module_nextcu(m, cu, bias))
    if (dwarf_haspc(cu, look - *bias) > 0) return cu;
  return NULL;
}

/* sym_lock held. Frames for one pc: the innermost inlined function with the
 * line at pc, then each caller it was inlined into with the call's line; the
 * outermost keeps the symbol table's name (base). Returns frames written. */
static size_t expand_pc(Dwfl_Module *m, uintptr_t look, const gort_leakcheck_frame *base,
                        gort_leakcheck_frame *out, size_t max) {
  if (max == 0) return 0;
  out[0] = *base;
  Dwarf_Addr bias;
  Dwarf_Die *cu = cu_at(m, look, &bias);
  Dwarf_Line *l = cu ? dwarf_getsrc_die(cu, look - bias) : NULL;
  int line = 0;
  const char *file = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
  if (file && dwarf_lineno(l, &line) == 0 && line > 0) {
    gort__lc_copy(out[0].file, sizeof out[0].file, file);
    out[0].line = line;
  }
  Dwarf_Die *scopes = NULL;
  int n = cu ? dwarf_getscopes(cu, look - bias, &scopes) : 0;
  size_t k = 0;
  for (int i = 0; i < n && k + 1 < max; i++) {
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) continue;
    /* scopes[i] is an inlined call: frame k runs its body, frame k+1 is the
     * function it was inlined into, at the call's line. */
    const char *fn = scope_name(&scopes[i]);
    if (fn) gort__lc_copy(out[k].function, sizeof out[k].function, fn);
    out[++k] = *base;
    const char *cfile;
    int cline;
    call_site(&scopes[i], cu, &cfile, &cline);
    gort__lc_copy(out[k].file, sizeof out[k].file, cfile ? cfile : "");
    out[k].line = cfile ? cline : 0;
    for (int j = i + 1; j < n; j++)
      if (is_function_scope(&scopes[j])) {
        if (!base->function[0] && scope_name(&scopes[j]))
          gort__lc_copy(out[k].function, sizeof out[k].function, scope_name(&scopes[j]));
        break;
      }
  }
  free(scopes);
  return k + 1;
}

static bool symbolize_allowed(void) {
  const char *e = getenv("GORT_LEAKCHECK_SYMBOLIZE");
  return !(e && strcmp(e, "0") == 0);
}

size_t gort__lc_symbolize(void *const *pcs, size_t n, bool first_is_exact,
                          gort_leakcheck_frame *frames, size_t max) {
  bool lines = symbolize_allowed();
  size_t out = 0;
  pthread_mutex_lock(&sym_lock);
  for (size_t i = 0; i < n && out < max; i++) {
    gort_leakcheck_frame base;
    memset(&base, 0, sizeof base);
    base.pc = pcs[i];
    /* A return address points after the call; look up the call itself. */
    uintptr_t look = (uintptr_t)pcs[i];
    if (look && !(i == 0 && first_is_exact)) look -= 1;
    Dwfl_Module *m = look ? module_of(look) : NULL;
    if (!m) {
      frames[out++] = base;
      continue;
    }
    const char *fn = dwfl_module_addrname(m, look);
    if (fn) gort__lc_copy(base.function, sizeof base.function, fn);
    const char *path = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (path) gort__lc_copy(base.object, sizeof base.object, base_name(path));
    if (lines)
      out += expand_pc(m, look, &base, frames + out, max - out);
    else
      frames[out++] = base;
  }
  pthread_mutex_unlock(&sym_lock);
  return out;
}
