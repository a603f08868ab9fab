/*
 * A hard ceiling on the memory DuckDB maps, whatever a statement computes.
 *
 * DuckDB's memory_limit binds its buffer manager only. String heaps, list children and
 * materialised results are allocated outside it, so one statement such as
 * `SELECT repeat('x', 10000000) FROM range(2048)` makes the process map 20 GB and the kernel
 * kill the whole server. Every such allocation reaches the operating system through the
 * jemalloc that libduckdb carries (its symbols are prefixed `duckdb_je_`), in extents that
 * jemalloc asks its arena's extent hooks for. We install hooks that pass each request on to
 * jemalloc's own, but refuse (return NULL) one that would take the mapped total past the
 * ceiling: jemalloc then reports the allocation failed and DuckDB raises its out-of-memory
 * error for that statement only, which the engine turns into RESOURCE_EXHAUSTED.
 *
 * The hooks follow jemalloc 5's public extent_hooks_t; the arenas are reached through its
 * documented mallctl names ("arenas.narenas", "arena.<i>.extent_hooks").
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "memory_ceiling.h"

typedef struct extent_hooks_s extent_hooks_t;
struct extent_hooks_s {
  void *(*alloc)(extent_hooks_t *, void *new_addr, size_t size, size_t alignment, bool *zero, bool *commit, unsigned arena);
  bool (*dalloc)(extent_hooks_t *, void *addr, size_t size, bool committed, unsigned arena);
  void (*destroy)(extent_hooks_t *, void *addr, size_t size, bool committed, unsigned arena);
  bool (*commit)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length, unsigned arena);
  bool (*decommit)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length, unsigned arena);
  bool (*purge_lazy)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length, unsigned arena);
  bool (*purge_forced)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length, unsigned arena);
  bool (*split)(extent_hooks_t *, void *addr, size_t size, size_t size_a, size_t size_b, bool committed, unsigned arena);
  bool (*merge)(extent_hooks_t *, void *addr_a, size_t size_a, void *addr_b, size_t size_b, bool committed, unsigned arena);
};

extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
extern void *duckdb_je_malloc(size_t size);
extern void duckdb_je_free(void *ptr);

/* jemalloc's own hooks, read from the first arena; every arena starts with the same ones. */
static extent_hooks_t *original;
static atomic_size_t mapped;
static atomic_size_t ceiling;
static atomic_size_t refused;
static int statm_fd = -1;
static size_t page_size = 4096;

/* The process's resident bytes (/proc/self/statm, second field); 0 when unreadable. */
static size_t resident_bytes(void) {
  char buf[128];
  ssize_t n = statm_fd >= 0 ? pread(statm_fd, buf, sizeof buf - 1, 0) : -1;
  if (n <= 0) return 0;
  buf[n] = 0;
  const char *p = strchr(buf, ' ');
  return p ? (size_t)strtoull(p + 1, NULL, 10) * page_size : 0;
}

/* The gate is what the process holds, not what jemalloc has mapped: memory one arena keeps
   after a statement is not reusable by another arena, so counting mappings would refuse
   statements long after the memory was given back. Growth steps are capped (see
   install), so a granted mapping overshoots the ceiling by at most one step. */
static void *ceiling_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment, bool *zero, bool *commit, unsigned arena) {
  if (resident_bytes() >= atomic_load(&ceiling)) {
    atomic_fetch_add(&refused, 1);
    return NULL;
  }
  void *p = original->alloc(original, new_addr, size, alignment, zero, commit, arena);
  if (p) atomic_fetch_add(&mapped, size);
  return p;
}

/* dalloc answers false when it unmapped the extent; true means jemalloc keeps it (retained). */
static bool ceiling_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena) {
  if (!original->dalloc) return true;
  bool kept = original->dalloc(original, addr, size, committed, arena);
  if (!kept) atomic_fetch_sub(&mapped, size);
  return kept;
}

static void ceiling_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena) {
  if (original->destroy) original->destroy(original, addr, size, committed, arena);
  atomic_fetch_sub(&mapped, size);
}

static bool ceiling_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset, size_t length, unsigned arena) {
  return original->commit ? original->commit(original, addr, size, offset, length, arena) : true;
}

static bool ceiling_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset, size_t length, unsigned arena) {
  return original->decommit ? original->decommit(original, addr, size, offset, length, arena) : true;
}

static bool ceiling_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset, size_t length, unsigned arena) {
  return original->purge_lazy ? original->purge_lazy(original, addr, size, offset, length, arena) : true;
}

static bool ceiling_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t offset, size_t length, unsigned arena) {
  return original->purge_forced ? original->purge_forced(original, addr, size, offset, length, arena) : true;
}

static bool ceiling_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b, bool committed, unsigned arena) {
  return original->split ? original->split(original, addr, size, size_a, size_b, committed, arena) : true;
}

static bool ceiling_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b, size_t size_b, bool committed, unsigned arena) {
  return original->merge ? original->merge(original, addr_a, size_a, addr_b, size_b, committed, arena) : true;
}

static extent_hooks_t hooks = {
    ceiling_alloc, ceiling_dalloc, ceiling_destroy, ceiling_commit, ceiling_decommit,
    ceiling_purge_lazy, ceiling_purge_forced, ceiling_split, ceiling_merge,
};

static int hook_operator_new(char *err, size_t errlen);
static pthread_mutex_t install_mu = PTHREAD_MUTEX_INITIALIZER;
static int installed;

static int set_hooks(unsigned arena, char *err, size_t errlen) {
  char name[64];
  snprintf(name, sizeof name, "arena.%u.extent_hooks", arena);
  extent_hooks_t *old = NULL, *mine = &hooks;
  size_t len = sizeof old;
  int rc = duckdb_je_mallctl(name, &old, &len, &mine, sizeof mine);
  if (rc != 0) {
    snprintf(err, errlen, "could not install the memory ceiling on jemalloc arena %u (error %d)", arena, rc);
    return -1;
  }
  if (old != &hooks && old != original) {
    snprintf(err, errlen, "jemalloc arena %u has extent hooks of its own; the memory ceiling cannot wrap them", arena);
    return -1;
  }
  return 0;
}

int memory_ceiling_install(size_t bytes, char *err, size_t errlen) {
  pthread_mutex_lock(&install_mu);
  int rc = 0;
  /* First the ceiling: installing initialises arenas, which maps through the hooks. */
  if (bytes > atomic_load(&ceiling)) atomic_store(&ceiling, bytes);
  if (!installed) {
    size_t len = sizeof original;
    statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0) page_size = (size_t)ps;
    if (statm_fd < 0 || resident_bytes() == 0) {
      snprintf(err, errlen, "could not read /proc/self/statm, which the memory ceiling needs");
      rc = -1;
      goto done;
    }
    if (duckdb_je_mallctl("arena.0.extent_hooks", &original, &len, NULL, 0) != 0 || !original || !original->alloc) {
      snprintf(err, errlen, "could not read jemalloc's extent hooks");
      rc = -1;
      goto done;
    }
    /* Allocations past jemalloc's oversize threshold go to an arena it creates on first use,
       with its default hooks: one such allocation now creates it, so that it is wrapped too. */
    void *big = duckdb_je_malloc((size_t)512 << 20);
    duckdb_je_free(big);
    unsigned narenas = 0;
    len = sizeof narenas;
    if (duckdb_je_mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0) {
      snprintf(err, errlen, "could not count jemalloc's arenas");
      rc = -1;
      goto done;
    }
    /* arenas.narenas counts the automatic arenas; the oversize one is the next index. */
    for (unsigned i = 0; i <= narenas && rc == 0; i++) {
      char name[64];
      snprintf(name, sizeof name, "arena.%u.extent_hooks", i);
      extent_hooks_t *current = NULL;
      size_t clen = sizeof current;
      int exists = duckdb_je_mallctl(name, &current, &clen, NULL, 0) == 0;
      if (i == narenas && !exists) break;
      rc = set_hooks(i, err, errlen);
      if (rc == 0) {
        /* Retained memory grows geometrically without bound; capped, one step past the
           ceiling is at most this much. */
        size_t limit = (size_t)32 << 20;
        snprintf(name, sizeof name, "arena.%u.retain_grow_limit", i);
        duckdb_je_mallctl(name, NULL, NULL, &limit, sizeof limit);
      }
    }
    if (rc == 0) rc = hook_operator_new(err, errlen);
    if (rc == 0) installed = 1;
  }
done:
  pthread_mutex_unlock(&install_mu);
  return rc;
}

size_t memory_ceiling_resident(void) {
  if (statm_fd < 0) {
    pthread_mutex_lock(&install_mu);
    if (statm_fd < 0) statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    pthread_mutex_unlock(&install_mu);
  }
  return resident_bytes();
}

size_t memory_ceiling_mapped(void) {
  return atomic_load(&mapped);
}

size_t memory_ceiling_bytes(void) {
  return atomic_load(&ceiling);
}

size_t memory_ceiling_refusals(void) {
  return atomic_load(&refused);
}

/* ---------------------------------------------------------------- C++ containers

   Some of DuckDB's values are built in C++ containers (std::string for a string function's
   result, std::vector for a list value, std::map for histogram states), which get their memory
   from operator new, not jemalloc. libduckdb imports operator new from libstdc++ through its
   global offset table; we point those entries at wrappers that refuse a request that would take
   the process past the ceiling, the way operator new refuses: by throwing std::bad_alloc (we ask
   the real one for the impossible). DuckDB turns it into the statement's error. Memory freed
   that way stays with the C library until trimmed (memory_ceiling_trim). */

void memory_ceiling_trim(void) {
  malloc_trim(0);
  /* All arenas (MALLCTL_ARENAS_ALL): dirty pages back to the system now, not after their decay. */
  duckdb_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}

static _Atomic long long last_trim_ms;

static long long clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Past the ceiling: first give back what is free (at most every 10 ms), then look again. */
static int over_after_trim(size_t size, size_t limit) {
  if (resident_bytes() + size <= limit) return 0;
  long long now = clock_ms(), last = atomic_load(&last_trim_ms);
  if (now - last >= 10 && atomic_compare_exchange_strong(&last_trim_ms, &last, now)) {
    memory_ceiling_trim();
    return resident_bytes() + size > limit;
  }
  return 1;
}

static void *(*real_new)(size_t);
static void *(*real_new_array)(size_t);
/* Each thread looks at the process's size once per megabyte it asks for, and at every request
   of a megabyte or more. */
#define CHECK_EVERY ((size_t)1 << 20)
static __thread size_t asked_since_check;

static int refuse(size_t size) {
  asked_since_check += size;
  if (asked_since_check < CHECK_EVERY) return 0;
  asked_since_check = 0;
  size_t limit = atomic_load(&ceiling);
  if (limit == 0 || !over_after_trim(size, limit)) return 0;
  atomic_fetch_add(&refused, 1);
  return 1;
}

static void *ceiling_new(size_t size) {
  return real_new(refuse(size) ? (size_t)-1 : size);
}

static void *ceiling_new_array(size_t size) {
  return real_new_array(refuse(size) ? (size_t)-1 : size);
}

typedef struct {
  const char *name;
  void *wrapper;
  int patched;
} got_patch;

static int patch_duckdb_got(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  got_patch *patches = data;
  if (!info->dlpi_name || !strstr(info->dlpi_name, "libduckdb.so")) return 0;
  ElfW(Addr) base = info->dlpi_addr;
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *)(base + info->dlpi_phdr[i].p_vaddr);
  }
  if (!dyn) return 1;
  const ElfW(Sym) *symtab = NULL;
  const char *strtab = NULL;
  const ElfW(Rela) *tables[2] = {NULL, NULL};
  size_t sizes[2] = {0, 0};
  for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
    /* The loader has relocated these pointers in place on x86-64; an unrelocated one is below base. */
    ElfW(Addr) v = d->d_un.d_ptr < base ? d->d_un.d_ptr + base : d->d_un.d_ptr;
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = (const ElfW(Sym) *)v; break;
      case DT_STRTAB: strtab = (const char *)v; break;
      case DT_JMPREL: tables[0] = (const ElfW(Rela) *)v; break;
      case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
      case DT_RELA: tables[1] = (const ElfW(Rela) *)v; break;
      case DT_RELASZ: sizes[1] = d->d_un.d_val; break;
    }
  }
  if (!symtab || !strtab) return 1;
  long page = sysconf(_SC_PAGESIZE);
  for (int t = 0; t < 2; t++) {
    for (size_t i = 0; tables[t] && i < sizes[t] / sizeof(ElfW(Rela)); i++) {
      const ElfW(Rela) *r = &tables[t][i];
      unsigned type = (unsigned)ELF64_R_TYPE(r->r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      const char *name = strtab + symtab[ELF64_R_SYM(r->r_info)].st_name;
      for (got_patch *p = patches; p->name; p++) {
        if (strcmp(name, p->name) != 0) continue;
        void **slot = (void **)(base + r->r_offset);
        uintptr_t start = (uintptr_t)slot & ~(uintptr_t)(page - 1);
        if (mprotect((void *)start, (size_t)page, PROT_READ | PROT_WRITE) != 0) continue;
        __atomic_store_n(slot, p->wrapper, __ATOMIC_SEQ_CST);
        /* Entries bound at load time sit in the read-only-after-relocation part: back to read-only. */
        if (type == R_X86_64_GLOB_DAT) mprotect((void *)start, (size_t)page, PROT_READ);
        p->patched++;
      }
    }
  }
  return 1;
}

/* Called once, with the ceiling installed: 0, or -1 when libduckdb's entries were not found. */
static int hook_operator_new(char *err, size_t errlen) {
  real_new = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "_Znwm");
  real_new_array = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "_Znam");
  if (!real_new || !real_new_array) {
    snprintf(err, errlen, "could not find operator new for the memory ceiling");
    return -1;
  }
  got_patch patches[] = {{"_Znwm", (void *)ceiling_new, 0}, {"_Znam", (void *)ceiling_new_array, 0}, {NULL, NULL, 0}};
  dl_iterate_phdr(patch_duckdb_got, patches);
  if (!patches[0].patched) {
    snprintf(err, errlen, "could not hook libduckdb's operator new for the memory ceiling");
    return -1;
  }
  return 0;
}

int memory_ceiling_exceeded(void) {
  size_t limit = atomic_load(&ceiling);
  return limit > 0 && over_after_trim(0, limit);
}

void memory_ceiling_note_refusal(void) {
  atomic_fetch_add(&refused, 1);
}

