/*
 * flightgate's binding of DuckDB's C API, as a Node-API addon.
 *
 * Two directions of Arrow data cross it, and neither touches the JavaScript heap per value:
 *  - datasets go in through one table function, `flightgate_scan(key)`, fed from JavaScript with
 *    validated Arrow IPC record-batch bodies that it lays out as Arrow C arrays for DuckDB, which
 *    reads fixed-width columns in place. The function answers only for keys granted to the
 *    calling connection, so a caller's SQL reaches nothing that was not put in its connection.
 *  - results come out chunk by chunk through DuckDB's Arrow export, copied once into a buffer
 *    laid out as an Arrow IPC record-batch body, with the field nodes and buffer regions the IPC
 *    header needs.
 * Statements run on a thread per connection, never on the event loop or libuv's pool (a scan
 * waiting for JavaScript to read a file must not hold a thread that file read needs).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAPI_VERSION 8
#include <node_api.h>

#include "duckdb_c_api.h"
#include "memory_ceiling.h"

#define SCAN_FUNCTION "flightgate_scan"
#define MAX_QUEUED_BATCHES 4

static const uint8_t ZERO_BLOCK[64] __attribute__((aligned(64))) = {0};

static char *copy_string(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s);
  char *r = malloc(n + 1);
  if (r) memcpy(r, s, n + 1);
  return r;
}

/* ---------------------------------------------------------------- field templates */

/* What one field looks like in an IPC body: how many buffers it has and its children. */
typedef struct fg_field {
  const char *format; /* the source schema's, which outlives the field */
  int nbuf;
  int64_t nchild;
  struct fg_field *children;
  int64_t fixed_list_size; /* for "+w:N" */
  /* Dictionary-encoded: the format above is the indices'; these are the values and their id. */
  struct fg_field *dict;
  int64_t dict_id;
} fg_field;

static int buffers_for_format(const char *f) {
  if (strcmp(f, "n") == 0) return 0;
  if (strcmp(f, "+s") == 0 || strncmp(f, "+w:", 3) == 0) return 1;
  if (strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strcmp(f, "+m") == 0) return 2;
  if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0 || strcmp(f, "U") == 0 || strcmp(f, "Z") == 0) return 3;
  if (f[0] == '+') return -1; /* unions, list views, run-end encoded: not accepted */
  if (f[0] == 'v') return -1; /* string views */
  return 2;
}

static void free_field(fg_field *f) {
  for (int64_t i = 0; i < f->nchild; i++) free_field(&f->children[i]);
  free(f->children);
  if (f->dict) {
    free_field(f->dict);
    free(f->dict);
  }
}

static int build_field(const struct ArrowSchema *s, fg_field *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->format = s->format;
  if (s->dictionary) {
    const char *f = s->format;
    if (strlen(f) != 1 || !strchr("cCsSiIlL", f[0])) {
      snprintf(err, errlen, "dictionary column \"%s\" has non-integer indices (%s)", s->name ? s->name : "", f);
      return -1;
    }
    out->dict = calloc(1, sizeof(fg_field));
    /* The id travels in the owned schema's private data (our schemas use it for nothing else). */
    out->dict_id = (int64_t)(intptr_t)s->private_data - 1;
    if (!out->dict || build_field(s->dictionary, out->dict, err, errlen) != 0) return -1;
  }
  out->nbuf = buffers_for_format(s->format);
  if (out->nbuf < 0) {
    snprintf(err, errlen, "column \"%s\" has an Arrow type (%s) the SQL engine does not read", s->name ? s->name : "",
             s->format);
    return -1;
  }
  if (strncmp(s->format, "+w:", 3) == 0) out->fixed_list_size = atoll(s->format + 3);
  out->nchild = s->n_children;
  if (s->n_children > 0) {
    out->children = calloc((size_t)s->n_children, sizeof(fg_field));
    if (!out->children) return -1;
    for (int64_t i = 0; i < s->n_children; i++) {
      if (build_field(s->children[i], &out->children[i], err, errlen) != 0) return -1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- schemas from JavaScript */

static void release_owned_schema(struct ArrowSchema *s) {
  for (int64_t i = 0; i < s->n_children; i++) {
    s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  if (s->dictionary) {
    if (s->dictionary->release) s->dictionary->release(s->dictionary);
    free(s->dictionary);
  }
  free((void *)s->format);
  free((void *)s->name);
  s->release = NULL;
}

static void release_nothing_schema(struct ArrowSchema *s) { s->release = NULL; }

/* ---------------------------------------------------------------- database, sources, scans */

/* A column's bytes from one record batch of a file, shared by every scan that reads them. */
typedef struct {
  atomic_int refs;
  int64_t len;
  uint8_t *data;
} fg_block;

struct fg_db;

typedef struct fg_source {
  char *key;
  struct fg_db *db;
  int64_t ncols;
  struct ArrowSchema schema; /* root struct, owned */
  fg_field *fields;          /* per top-level column */
  duckdb_arrow_converted_schema *converted; /* per column: a one-column schema */
  duckdb_logical_type *types;
  int64_t rows; /* -1 when unknown */
  /* Set when the data lies in IPC files the scan reads itself: per batch file, body offset,
     body length, rows, first node, node count, first buffer, buffer count. */
  char **files;
  int nfiles;
  double *file_batches;
  int64_t nfile_batches;
  double *file_nodes;
  double *file_buffers;
  /* Per dictionary batch: file, id, body offset, body length, rows, first node, node count,
     first buffer, buffer count (one dictionary per id per file). */
  double *file_dicts;
  int64_t nfile_dicts;
  /* The scan cache: per file batch × column, the block once read (NULL until then, or when the
     cache was full). Blocks live as long as the source: a source is one version of its files. */
  _Atomic(fg_block *) *cache;
  /* And what DuckDB made of them: per vector-sized window (win_base[i] is batch i's first) ×
     column, the converted vector, so a later scan hands DuckDB its own vectors again. */
  int64_t *win_base;
  _Atomic(duckdb_data_chunk) *vcache;
  /* Scans read the caches under the read lock; evicting takes the write lock. */
  pthread_rwlock_t cache_lock;
  atomic_llong cached_bytes; /* this source's part of db->cache_bytes */
  atomic_llong last_used;    /* ms, monotonic: the least recently used source is evicted first */
  atomic_int refs;
  struct fg_source *next;
} fg_source;

typedef struct fg_batch {
  int64_t length;
  uint8_t *body;
  fg_block **blocks; /* file batches: the column blocks its arrays point into */
  int nblocks;
  struct fg_batch **deps; /* dictionary batches its columns point into */
  int ndeps;
  struct ArrowArray **columns; /* full trees, built once per batch */
  int64_t ncols;
  atomic_int refs;
  struct fg_batch *next;
} fg_batch;

struct fg_db;

typedef struct fg_scan {
  uint64_t id;
  struct fg_db *db;
  fg_source *source;
  idx_t connection_id;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  fg_batch *head, *tail;
  int queued;
  int full_signalled;
  int finished;
  int cancelled;
  char *error;
  idx_t nproj;
  idx_t *proj;
  int *fds; /* file scans: the source's files, opened when the scan starts */
  char *wanted; /* per source column: projected by this scan */
  fg_batch **dicts; /* per source dictionary entry, read when first needed (under mu) */
  /* Streamed scans: the dictionary now in effect per id (touched on the JavaScript thread only). */
  struct { int64_t id; fg_batch *batch; } feed_dicts[16];
  int nfeed_dicts;
  atomic_llong next_file_batch;
  struct fg_scan *next;
} fg_scan;

typedef struct fg_grant {
  idx_t connection_id;
  int64_t nkeys;
  char **keys;
  struct fg_grant *next;
} fg_grant;

typedef struct fg_db {
  duckdb_database db;
  pthread_mutex_t mu;
  fg_source *sources;
  fg_scan *scans;
  fg_grant *grants;
  uint64_t next_scan_id;
  duckdb_connection *converters; /* pool: one per thread converting at a time */
  int nconverters, capconverters;
  napi_threadsafe_function scan_events;
  napi_threadsafe_function completions;
  int pending_jobs; /* touched on the JavaScript thread only */
  pthread_mutex_t pool_mu;
  /* buffer: the JavaScript Buffer over mem, once lent (it then owns mem) */
  struct { uint8_t *mem; size_t cap; napi_ref buffer; } pool[8];
  int npool;
  /* Buffers the pool had no room for: their references are dropped on the JavaScript thread. */
  struct fg_orphan { napi_ref buffer; struct fg_orphan *next; } *orphans;
  int closed;
  /* Bytes of file columns the scan cache may hold, and holds. */
  int64_t cache_budget;
  atomic_llong cache_bytes;
} fg_db;

extern void *duckdb_je_malloc(size_t size);
extern void duckdb_je_free(void *ptr);

/* Rows of window w of file batch i (windows are DuckDB's vector size, the last one shorter). */
static int64_t window_rows(const fg_source *s, int64_t i, int64_t w) {
  int64_t cap = (int64_t)duckdb_vector_size();
  int64_t left = (int64_t)s->file_batches[8 * i + 3] - w * cap;
  return left < cap ? left : cap;
}

/* What a converted vector costs beyond the column's bytes: DuckDB reads these primitive types
   in place; others (strings as 16-byte views, booleans, units converted) it copies. */
static int64_t vector_charge(const fg_source *s, int64_t k, int64_t rows) {
  static const char *in_place[] = {"l", "L", "i", "I", "s", "S", "c", "C", "g", "f"};
  const char *f = s->fields[k].format;
  for (size_t i = 0; i < sizeof in_place / sizeof in_place[0]; i++) {
    if (strcmp(f, in_place[i]) == 0 && !s->fields[k].dict) return 512;
  }
  return 512 + rows * 16;
}

static void block_unref(fg_block *b) {
  if (!b || atomic_fetch_sub(&b->refs, 1) != 1) return;
  duckdb_je_free(b->data);
  free(b);
}

/* Frees everything the source holds in the caches (the caller holds its write lock, or the last
   reference). Vectors DuckDB still uses keep their buffers: they reference them. */
static void drop_cached(fg_source *s) {
  int64_t freed = 0;
  for (int64_t i = 0; s->cache && i < s->nfile_batches * s->ncols; i++) {
    fg_block *b = atomic_exchange(&s->cache[i], NULL);
    if (!b) continue;
    freed += b->len;
    block_unref(b);
  }
  for (int64_t i = 0; s->vcache && i < s->nfile_batches; i++) {
    for (int64_t w = s->win_base[i]; w < s->win_base[i + 1]; w++) {
      for (int64_t k = 0; k < s->ncols; k++) {
        duckdb_data_chunk c = atomic_exchange(&s->vcache[w * s->ncols + k], NULL);
        if (!c) continue;
        freed += vector_charge(s, k, window_rows(s, i, w - s->win_base[i]));
        duckdb_destroy_data_chunk(&c);
      }
    }
  }
  atomic_fetch_sub(&s->cached_bytes, freed);
  atomic_fetch_sub(&s->db->cache_bytes, freed);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Makes room for `need` bytes by evicting whole sources, least recently used first (never
   `keep`, whose scan is asking); a source being read at this moment is passed over. */
static void evict_for(fg_db *db, fg_source *keep, int64_t need) {
  for (int tries = 0; tries < 64 && atomic_load(&db->cache_bytes) + need > db->cache_budget; tries++) {
    pthread_mutex_lock(&db->mu);
    fg_source *victim = NULL;
    for (fg_source *x = db->sources; x; x = x->next) {
      if (x == keep || atomic_load(&x->cached_bytes) <= 0) continue;
      if (!victim || atomic_load(&x->last_used) < atomic_load(&victim->last_used)) victim = x;
    }
    int evicted = 0;
    if (victim && pthread_rwlock_trywrlock(&victim->cache_lock) == 0) {
      drop_cached(victim);
      pthread_rwlock_unlock(&victim->cache_lock);
      evicted = 1;
    }
    pthread_mutex_unlock(&db->mu);
    if (!evicted) break;
  }
}

/* Takes room in the cache for `len` bytes of source `src`, evicting others if need be. */
static int reserve_cache(fg_db *db, fg_source *src, int64_t len) {
  if (len > db->cache_budget) return 0;
  if (atomic_load(&db->cache_bytes) + len > db->cache_budget) evict_for(db, src, len);
  if (atomic_fetch_add(&db->cache_bytes, len) + len > db->cache_budget) {
    atomic_fetch_sub(&db->cache_bytes, len);
    return 0;
  }
  atomic_fetch_add(&src->cached_bytes, len);
  return 1;
}

static void unreserve_cache(fg_db *db, fg_source *src, int64_t len) {
  atomic_fetch_sub(&db->cache_bytes, len);
  atomic_fetch_sub(&src->cached_bytes, len);
}

static void source_unref(fg_source *s) {
  if (atomic_fetch_sub(&s->refs, 1) != 1) return;
  if (s->cache || s->vcache) {
    drop_cached(s);
    pthread_rwlock_destroy(&s->cache_lock);
  }
  free(s->cache);
  free(s->vcache);
  free(s->win_base);
  for (int64_t i = 0; i < s->ncols; i++) {
    if (s->converted && s->converted[i]) duckdb_destroy_arrow_converted_schema(&s->converted[i]);
    if (s->types && s->types[i]) duckdb_destroy_logical_type(&s->types[i]);
    if (s->fields) free_field(&s->fields[i]);
  }
  free(s->converted);
  free(s->types);
  free(s->fields);
  for (int i = 0; i < s->nfiles; i++) free(s->files[i]);
  free(s->files);
  free(s->file_batches);
  free(s->file_nodes);
  free(s->file_buffers);
  free(s->file_dicts);
  if (s->schema.release) s->schema.release(&s->schema);
  free(s->key);
  free(s);
}

static duckdb_connection take_converter(fg_db *db) {
  duckdb_connection c = NULL;
  pthread_mutex_lock(&db->mu);
  if (db->nconverters > 0) c = db->converters[--db->nconverters];
  pthread_mutex_unlock(&db->mu);
  if (!c && duckdb_connect(db->db, &c) != DuckDBSuccess) return NULL;
  return c;
}

static void give_converter(fg_db *db, duckdb_connection c) {
  pthread_mutex_lock(&db->mu);
  if (db->nconverters == db->capconverters) {
    int cap = db->capconverters ? db->capconverters * 2 : 8;
    duckdb_connection *n = realloc(db->converters, (size_t)cap * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&db->mu);
      duckdb_disconnect(&c);
      return;
    }
    db->converters = n;
    db->capconverters = cap;
  }
  db->converters[db->nconverters++] = c;
  pthread_mutex_unlock(&db->mu);
}

/* Events to JavaScript about scans. */
enum { SCAN_START = 1, SCAN_DRAIN = 2, SCAN_STOP = 3 };
typedef struct {
  int kind;
  uint64_t scan_id;
  char *key;
} fg_scan_event;

static void emit_scan_event(fg_db *db, int kind, uint64_t id, const char *key) {
  fg_scan_event *e = malloc(sizeof *e);
  if (!e) return;
  e->kind = kind;
  e->scan_id = id;
  e->key = copy_string(key);
  if (napi_call_threadsafe_function(db->scan_events, e, napi_tsfn_nonblocking) != napi_ok) {
    free(e->key);
    free(e);
  }
}

/* ---------------------------------------------------------------- Arrow arrays over IPC bodies */

static void release_nested(struct ArrowArray *a) { a->release = NULL; }

/* Marks an array whose dictionary it owns (the empty arrays that probe types); laid-out batches
   share their dictionaries, which belong to the dictionary batch. */
static char OWNS_DICTIONARY;

static void free_tree(struct ArrowArray *a) {
  if (!a) return;
  if (a->private_data == &OWNS_DICTIONARY) free_tree(a->dictionary);
  for (int64_t i = 0; i < a->n_children; i++) free_tree(a->children[i]);
  free(a->children);
  free((void *)a->buffers);
  free(a);
}

/* Batch bodies come from DuckDB's own allocator: a scan's next body reuses the memory of the
   last one instead of mapping (and faulting in) fresh pages each time, and the memory ceiling
   counts them with the rest. */
#define body_alloc(n) duckdb_je_malloc((n) ? (n) : 1)
#define body_free(p) duckdb_je_free(p)

static void batch_unref(fg_batch *b) {
  if (!b || atomic_fetch_sub(&b->refs, 1) != 1) return;
  for (int64_t i = 0; i < b->ncols; i++) free_tree(b->columns[i]);
  free(b->columns);
  for (int i = 0; i < b->ndeps; i++) batch_unref(b->deps[i]);
  free(b->deps);
  for (int i = 0; i < b->nblocks; i++) block_unref(b->blocks[i]);
  free(b->blocks);
  body_free(b->body);
  free(b);
}

typedef struct {
  const double *nodes;
  int64_t nnodes, node;
  const double *bufs;
  int64_t nbufs, buf;
  const uint8_t *body;
  int64_t body_len;
  /* Dictionary columns: finds the dictionary with this id for the batch being laid out, taking a
     reference for `owner`; NULL when dictionaries cannot be read this way. */
  fg_batch *(*dictionary)(void *ctx, int64_t id, char *err, size_t errlen);
  void *ctx;
  fg_batch *owner;
  /* The batch offset `body` holds: a cached column's block starts at its first buffer. */
  int64_t base;
} ipc_cursor;

static int fixed_width(const char *f);
static int64_t count_nulls(const uint8_t *bits, int64_t offset, int64_t length);

/* The buffers a field's values need, whatever the layout claims: sizes for its length, and
   offsets that start at or above zero, never decrease and stay within the data. DuckDB reads
   these without bounds checks, so a file changed after it was indexed must fail here. */
static int check_buffers(const fg_field *f, const struct ArrowArray *a, const int64_t *lens, char *err, size_t errlen) {
  const char *fmt = f->format;
  int64_t n = a->length;
  if (n < 0) {
    snprintf(err, errlen, "negative length (corrupt batch)");
    return -1;
  }
  if (f->nbuf >= 1 && a->buffers[0] && lens[0] < (n + 7) / 8) goto short_buffer;
  if (strcmp(fmt, "b") == 0) {
    if (lens[1] < (n + 7) / 8) goto short_buffer;
    return 0;
  }
  int wide = strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0 || strcmp(fmt, "+L") == 0;
  int var = wide || strcmp(fmt, "u") == 0 || strcmp(fmt, "z") == 0 || strcmp(fmt, "+l") == 0 || strcmp(fmt, "+m") == 0;
  if (var) {
    int64_t w = wide ? 8 : 4;
    if (n > 0 && lens[1] < (n + 1) * w) goto short_buffer;
    if (n == 0) return 0;
    int64_t limit = f->nbuf == 3 ? lens[2] : INT64_MAX;
    int64_t prev = wide ? ((const int64_t *)a->buffers[1])[0] : ((const int32_t *)a->buffers[1])[0];
    if (prev < 0) goto bad_offsets;
    for (int64_t i = 1; i <= n; i++) {
      int64_t o = wide ? ((const int64_t *)a->buffers[1])[i] : ((const int32_t *)a->buffers[1])[i];
      if (o < prev) goto bad_offsets;
      prev = o;
    }
    if (prev > limit) goto bad_offsets;
    return 0;
  }
  if (fmt[0] == '+' || strcmp(fmt, "n") == 0) return 0;
  {
    int w = fixed_width(fmt);
    if (w <= 0 || lens[1] < n * w) goto short_buffer;
  }
  return 0;
short_buffer:
  snprintf(err, errlen, "a buffer is shorter than its column's values need (corrupt batch)");
  return -1;
bad_offsets:
  snprintf(err, errlen, "a column's offsets are out of order or out of range (corrupt batch)");
  return -1;
}

/* Points a dictionary column at its dictionary and checks every valid index against it; the
   indices of null slots, which the format leaves undefined, are set to 0 (the body is our copy). */
static int attach_dictionary(const fg_field *f, struct ArrowArray *a, ipc_cursor *c, char *err, size_t errlen) {
  if (!c->dictionary) {
    snprintf(err, errlen, "dictionary-encoded columns can be queried only from Arrow IPC files");
    return -1;
  }
  fg_batch *d = c->dictionary(c->ctx, f->dict_id, err, errlen);
  if (!d) return -1;
  fg_batch **deps = realloc(c->owner->deps, sizeof(fg_batch *) * (size_t)(c->owner->ndeps + 1));
  if (!deps) {
    batch_unref(d);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  c->owner->deps = deps;
  deps[c->owner->ndeps++] = d;
  a->dictionary = d->columns[0];
  int64_t size = a->dictionary->length;
  int w = fixed_width(f->format);
  int is_signed = f->format[0] >= 'a';
  const uint8_t *validity = a->buffers[0];
  uint8_t *idx = (uint8_t *)a->buffers[1];
  for (int64_t i = 0; i < a->length; i++) {
    int valid = !validity || ((validity[i >> 3] >> (i & 7)) & 1);
    int64_t v = 0;
    uint64_t u = 0;
    switch (w) {
      case 1: v = is_signed ? ((int8_t *)idx)[i] : ((uint8_t *)idx)[i]; break;
      case 2: v = is_signed ? ((int16_t *)idx)[i] : ((uint16_t *)idx)[i]; break;
      case 4: v = is_signed ? ((int32_t *)idx)[i] : (int64_t)((uint32_t *)idx)[i]; break;
      default:
        memcpy(&u, idx + 8 * i, 8);
        v = is_signed ? (int64_t)u : (u > (uint64_t)INT64_MAX ? -1 : (int64_t)u);
    }
    if (!valid) {
      memset(idx + (int64_t)w * i, 0, (size_t)w);
      continue;
    }
    if (v < 0 || v >= size) {
      snprintf(err, errlen, "a dictionary index lies outside its dictionary (corrupt batch)");
      return -1;
    }
  }
  return 0;
}

/* Lays one field (and its children) over the body, taking field nodes and buffers in the IPC
   order: depth first, each field's own buffers before its children's. */
static struct ArrowArray *lay_out(const fg_field *f, ipc_cursor *c, char *err, size_t errlen) {
  if (c->node >= c->nnodes) {
    snprintf(err, errlen, "record batch has fewer field nodes than its schema");
    return NULL;
  }
  struct ArrowArray *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->length = (int64_t)c->nodes[2 * c->node];
  a->null_count = (int64_t)c->nodes[2 * c->node + 1];
  c->node++;
  a->n_buffers = f->nbuf;
  a->buffers = calloc((size_t)(f->nbuf ? f->nbuf : 1), sizeof(void *));
  a->release = release_nested;
  if (!a->buffers) {
    free(a);
    return NULL;
  }
  int64_t lens[3] = {0, 0, 0};
  for (int i = 0; i < f->nbuf; i++) {
    if (c->buf >= c->nbufs) {
      snprintf(err, errlen, "record batch has fewer buffers than its schema");
      free_tree(a);
      return NULL;
    }
    int64_t off = (int64_t)c->bufs[2 * c->buf], len = (int64_t)c->bufs[2 * c->buf + 1];
    c->buf++;
    lens[i] = len;
    if (len < 0 || (len > 0 && (off < c->base || off - c->base + len > c->body_len)) || (len == 0 && off < 0)) {
      snprintf(err, errlen, "record batch buffer lies outside its body");
      free_tree(a);
      return NULL;
    }
    if (i == 0 && (len == 0 || a->null_count == 0)) a->buffers[i] = NULL; /* no validity bitmap */
    else a->buffers[i] = len == 0 ? (const void *)ZERO_BLOCK : (const void *)(c->body + (off - c->base));
  }
  if (f->nbuf == 0) a->buffers[0] = NULL;
  if (check_buffers(f, a, lens, err, errlen) != 0) {
    free_tree(a);
    return NULL;
  }
  if (f->dict && attach_dictionary(f, a, c, err, errlen) != 0) {
    free_tree(a);
    return NULL;
  }
  a->n_children = f->nchild;
  if (f->nchild) {
    a->children = calloc((size_t)f->nchild, sizeof(struct ArrowArray *));
    if (!a->children) {
      free_tree(a);
      return NULL;
    }
    for (int64_t i = 0; i < f->nchild; i++) {
      a->children[i] = lay_out(&f->children[i], c, err, errlen);
      if (!a->children[i]) {
        a->n_children = i;
        free_tree(a);
        return NULL;
      }
    }
    /* A list's last offset, or a fixed-size list's length, must stay within its child. */
    const char *fmt = f->format;
    int64_t need = -1;
    if (a->length > 0 && (strcmp(fmt, "+l") == 0 || strcmp(fmt, "+m") == 0)) need = ((const int32_t *)a->buffers[1])[a->length];
    else if (a->length > 0 && strcmp(fmt, "+L") == 0) need = ((const int64_t *)a->buffers[1])[a->length];
    else if (strncmp(fmt, "+w:", 3) == 0) need = a->length * f->fixed_list_size;
    else if (strcmp(fmt, "+s") == 0) need = a->length;
    for (int64_t i = 0; need >= 0 && i < a->n_children; i++) {
      if (a->children[i]->length < need) {
        snprintf(err, errlen, "a nested column's offsets point past its values (corrupt batch)");
        free_tree(a);
        return NULL;
      }
    }
  }
  return a;
}

/* An empty array of the field's type, to learn the DuckDB type DuckDB converts it to. */
static struct ArrowArray *empty_array(const fg_field *f) {
  struct ArrowArray *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->n_buffers = f->nbuf;
  a->buffers = calloc((size_t)(f->nbuf ? f->nbuf : 1), sizeof(void *));
  for (int i = 1; i < f->nbuf; i++) a->buffers[i] = ZERO_BLOCK;
  a->release = release_nested;
  a->n_children = f->nchild;
  if (f->nchild) {
    a->children = calloc((size_t)f->nchild, sizeof(struct ArrowArray *));
    for (int64_t i = 0; i < f->nchild; i++) a->children[i] = empty_array(&f->children[i]);
  }
  if (f->dict) {
    a->dictionary = empty_array(f->dict);
    a->private_data = &OWNS_DICTIONARY;
  }
  return a;
}

/* The root handed to DuckDB for one column of a window of a batch; DuckDB releases it when the
   last vector that reads the batch's memory is gone. */
typedef struct {
  fg_batch *batch;
  struct ArrowArray column;
  struct ArrowArray *children[1];
} fg_window;

static void release_window(struct ArrowArray *root) {
  fg_window *w = root->private_data;
  root->release = NULL;
  if (w->batch) batch_unref(w->batch);
  free(w); /* `root` may be DuckDB's copy of the struct we handed over: not ours to free */
}

static void release_empty_root(struct ArrowArray *root) {
  fg_window *w = root->private_data;
  root->release = NULL;
  for (int64_t i = 0; i < w->column.n_children; i++) free_tree(w->column.children[i]);
  free(w->column.children);
  free((void *)w->column.buffers);
  if (w->column.private_data == &OWNS_DICTIONARY) free_tree(w->column.dictionary);
  free(w);
}

static struct ArrowArray *window_root(fg_window *w, int64_t length) {
  struct ArrowArray *root = calloc(1, sizeof *root);
  static const void *root_buffers[1] = {NULL};
  if (!root) return NULL;
  root->length = length;
  root->n_buffers = 1;
  root->buffers = root_buffers;
  root->n_children = 1;
  w->children[0] = &w->column;
  root->children = w->children;
  root->release = release_window;
  root->private_data = w;
  return root;
}

/* ---------------------------------------------------------------- the scan table function */

typedef struct {
  fg_db *db;
  fg_source *source;
  idx_t connection_id;
} fg_bind;

static void destroy_bind(void *p) {
  fg_bind *b = p;
  source_unref(b->source);
  free(b);
}

static int granted(fg_db *db, idx_t connection_id, const char *key) {
  int ok = 0;
  for (fg_grant *g = db->grants; g && !ok; g = g->next) {
    if (g->connection_id != connection_id) continue;
    for (int64_t i = 0; i < g->nkeys; i++) {
      if (strcmp(g->keys[i], key) == 0) {
        ok = 1;
        break;
      }
    }
  }
  return ok;
}

static void scan_bind(duckdb_bind_info info) {
  fg_db *db = duckdb_bind_get_extra_info(info);
  duckdb_value v = duckdb_bind_get_parameter(info, 0);
  char *key = v ? duckdb_get_varchar(v) : NULL;
  if (v) duckdb_destroy_value(&v);
  duckdb_client_context ctx = NULL;
  duckdb_table_function_get_client_context(info, &ctx);
  idx_t conn_id = ctx ? duckdb_client_context_get_connection_id(ctx) : (idx_t)-1;
  if (ctx) duckdb_destroy_client_context(&ctx);

  fg_source *src = NULL;
  pthread_mutex_lock(&db->mu);
  if (key && granted(db, conn_id, key)) {
    for (fg_source *s = db->sources; s; s = s->next) {
      if (strcmp(s->key, key) == 0) {
        src = s;
        atomic_fetch_add(&src->refs, 1);
        break;
      }
    }
  }
  pthread_mutex_unlock(&db->mu);
  if (key) duckdb_free(key);
  if (!src) {
    /* The same answer whether the key exists or not: existence is not the caller's to learn. */
    duckdb_bind_set_error(info, "no such table");
    return;
  }
  for (int64_t i = 0; i < src->ncols; i++) {
    duckdb_bind_add_result_column(info, src->schema.children[i]->name, src->types[i]);
  }
  if (src->rows >= 0) duckdb_bind_set_cardinality(info, (idx_t)src->rows, true);
  fg_bind *b = malloc(sizeof *b);
  b->db = db;
  b->source = src;
  b->connection_id = conn_id;
  duckdb_bind_set_bind_data(info, b, destroy_bind);
}

static void free_queue(fg_scan *s) {
  while (s->head) {
    fg_batch *b = s->head;
    s->head = b->next;
    batch_unref(b);
  }
  s->tail = NULL;
  s->queued = 0;
}

static void destroy_scan(void *p) {
  fg_scan *s = p;
  fg_db *db = s->db;
  pthread_mutex_lock(&db->mu);
  for (fg_scan **pp = &db->scans; *pp; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  pthread_mutex_unlock(&db->mu);
  if (!s->finished && !s->source->nfiles) emit_scan_event(db, SCAN_STOP, s->id, NULL);
  for (int i = 0; s->fds && i < s->source->nfiles; i++) {
    if (s->fds[i] >= 0) close(s->fds[i]);
  }
  free(s->fds);
  free(s->wanted);
  for (int64_t i = 0; s->dicts && i < s->source->nfile_dicts; i++) batch_unref(s->dicts[i]);
  free(s->dicts);
  for (int i = 0; i < s->nfeed_dicts; i++) batch_unref(s->feed_dicts[i].batch);
  free_queue(s);
  free(s->error);
  free(s->proj);
  source_unref(s->source);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

static void scan_init(duckdb_init_info info) {
  fg_bind *b = duckdb_init_get_bind_data(info);
  fg_scan *s = calloc(1, sizeof *s);
  if (!s) {
    duckdb_init_set_error(info, "out of memory");
    return;
  }
  s->db = b->db;
  s->source = b->source;
  atomic_fetch_add(&s->source->refs, 1);
  s->connection_id = b->connection_id;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->nproj = duckdb_init_get_column_count(info);
  s->proj = calloc(s->nproj ? s->nproj : 1, sizeof(idx_t));
  for (idx_t i = 0; i < s->nproj; i++) s->proj[i] = duckdb_init_get_column_index(info, i);
  s->wanted = calloc((size_t)(s->source->ncols ? s->source->ncols : 1), 1);
  for (idx_t i = 0; i < s->nproj; i++) {
    if ((int64_t)s->proj[i] < s->source->ncols) s->wanted[s->proj[i]] = 1;
    else if (!s->error) s->error = copy_string("the scan was asked for a column it does not have");
  }
  duckdb_init_set_max_threads(info, 4);
  atomic_init(&s->next_file_batch, 0);
  if (s->source->nfiles) {
    s->fds = malloc(sizeof(int) * (size_t)s->source->nfiles);
    for (int i = 0; i < s->source->nfiles; i++) s->fds[i] = -1;
    for (int i = 0; i < s->source->nfiles; i++) {
      s->fds[i] = open(s->source->files[i], O_RDONLY | O_CLOEXEC);
      if (s->fds[i] < 0) {
        /* A replace or drop since the statement was planned: the old files are gone. */
        s->error = copy_string("the table changed while the query was planned; run it again");
        break;
      }
    }
  }
  pthread_mutex_lock(&s->db->mu);
  s->id = ++s->db->next_scan_id;
  s->next = s->db->scans;
  s->db->scans = s;
  pthread_mutex_unlock(&s->db->mu);
  duckdb_init_set_init_data(info, s, destroy_scan);
  if (!s->source->nfiles) emit_scan_event(s->db, SCAN_START, s->id, s->source->key);
}

typedef struct {
  fg_batch *batch;
  int64_t pos;
  duckdb_connection converter;
  fg_db *db;
  int64_t file_batch; /* file scans: the index of `batch`, or of the batch served from the vector cache */
  int from_cache;     /* serving file_batch's windows from the vector cache */
} fg_local;

static void destroy_local(void *p) {
  fg_local *l = p;
  if (l->batch) batch_unref(l->batch);
  if (l->converter) give_converter(l->db, l->converter);
  free(l);
}

static void scan_local_init(duckdb_init_info info) {
  fg_bind *b = duckdb_init_get_bind_data(info);
  fg_local *l = calloc(1, sizeof *l);
  l->db = b->db;
  l->converter = take_converter(b->db);
  if (!l->converter) {
    free(l);
    duckdb_init_set_error(info, "could not open a conversion connection");
    return;
  }
  duckdb_init_set_init_data(info, l, destroy_local);
}

/* Takes the next batch from the queue, waiting for JavaScript to supply one. 0: got one;
   1: the stream ended; -1: failed or cancelled (message in *err). */
/* Advances the cursor over a field without laying it out, noting the body range its buffers use. */
static void skip_field(const fg_field *f, ipc_cursor *c, int64_t *lo, int64_t *hi) {
  c->node++;
  for (int i = 0; i < f->nbuf && c->buf < c->nbufs; i++, c->buf++) {
    int64_t off = (int64_t)c->bufs[2 * c->buf], len = (int64_t)c->bufs[2 * c->buf + 1];
    if (len <= 0) continue;
    if (off < *lo) *lo = off;
    if (off + len > *hi) *hi = off + len;
  }
  for (int64_t i = 0; i < f->nchild; i++) skip_field(&f->children[i], c, lo, hi);
}

static int pread_all(int fd, uint8_t *into, int64_t length, int64_t offset) {
  int64_t done = 0;
  while (done < length) {
    ssize_t r = pread(fd, into + done, (size_t)(length - done), offset + done);
    if (r <= 0) return -1;
    done += r;
  }
  return 0;
}

/* A record batch of file `file` being laid out by scan `scan`. */
typedef struct {
  fg_scan *scan;
  int file;
} fg_dict_context;

/* The dictionary `id` of the batch's file, read (and checked) the first time a batch needs it. */
static fg_batch *scan_dictionary(void *ctx, int64_t id, char *err, size_t errlen) {
  fg_dict_context *dc = ctx;
  fg_scan *s = dc->scan;
  const fg_source *src = s->source;
  int64_t entry = -1;
  for (int64_t i = 0; i < src->nfile_dicts; i++) {
    if ((int)src->file_dicts[9 * i] == dc->file && (int64_t)src->file_dicts[9 * i + 1] == id) entry = i;
  }
  if (entry < 0) {
    snprintf(err, errlen, "a column's dictionary is missing from its file (corrupt file)");
    return NULL;
  }
  const fg_field *field = NULL;
  for (int64_t k = 0; k < src->ncols && !field; k++) {
    if (src->fields[k].dict && src->fields[k].dict_id == id) field = src->fields[k].dict;
  }
  if (!field) {
    snprintf(err, errlen, "no column uses dictionary %lld", (long long)id);
    return NULL;
  }
  pthread_mutex_lock(&s->mu);
  if (!s->dicts) s->dicts = calloc((size_t)src->nfile_dicts, sizeof(fg_batch *));
  fg_batch *d = s->dicts ? s->dicts[entry] : NULL;
  if (!d && s->dicts) {
    const double *e = src->file_dicts + 9 * entry;
    int64_t offset = (int64_t)e[2], length = (int64_t)e[3];
    d = calloc(1, sizeof *d);
    atomic_init(&d->refs, 1);
    d->length = (int64_t)e[4];
    d->body = body_alloc((size_t)length);
    d->ncols = 1;
    d->columns = calloc(1, sizeof(struct ArrowArray *));
    int ok = d->body && d->columns && pread_all(s->fds[dc->file], d->body, length, offset) == 0;
    if (ok) {
      ipc_cursor c = {src->file_nodes + 2 * (int64_t)e[5], (int64_t)e[6], 0, src->file_buffers + 2 * (int64_t)e[7], (int64_t)e[8], 0, d->body, length, NULL, NULL, d, 0};
      d->columns[0] = lay_out(field, &c, err, errlen);
      ok = d->columns[0] != NULL;
    } else {
      snprintf(err, errlen, "the table's file changed while it was read; run the query again");
    }
    if (!ok) {
      batch_unref(d);
      d = NULL;
    } else {
      s->dicts[entry] = d;
    }
  }
  if (d) atomic_fetch_add(&d->refs, 1);
  pthread_mutex_unlock(&s->mu);
  return d;
}

/* A file scan's next batch: claimed by whichever thread asks, read with pread (never mapped: a
   file truncated under a mapping would fault the process), laid out and checked. */
/* Column k's bytes of file batch i: from the scan cache, or read and (while the cache has room)
   kept there. NULL when the file no longer holds them. */
static fg_block *column_block(fg_scan *s, int64_t i, int64_t k, int fd, int64_t at, int64_t len) {
  fg_source *src = s->source;
  fg_db *db = s->db;
  _Atomic(fg_block *) *slot = src->cache ? &src->cache[i * src->ncols + k] : NULL;
  fg_block *b = NULL;
  if (slot) {
    pthread_rwlock_rdlock(&src->cache_lock);
    b = atomic_load(slot);
    if (b && b->len == len) atomic_fetch_add(&b->refs, 1);
    else b = NULL;
    pthread_rwlock_unlock(&src->cache_lock);
    if (b) return b;
  }
  /* Room is taken before the bytes are read: what the read adds to the process is the cache's
     from the start (a statement computed whole counts its growth without it). */
  int keep = slot ? reserve_cache(db, src, len) : 0;
  b = calloc(1, sizeof *b);
  if (b) {
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = duckdb_je_malloc(len ? (size_t)len : 1);
  }
  if (!b || !b->data || pread_all(fd, b->data, len, at) != 0) {
    if (keep) unreserve_cache(db, src, len);
    if (b) block_unref(b);
    return NULL;
  }
  if (keep) {
    fg_block *none = NULL;
    atomic_fetch_add(&b->refs, 1); /* the cache's */
    pthread_rwlock_rdlock(&src->cache_lock);
    int kept = atomic_compare_exchange_strong(slot, &none, b);
    pthread_rwlock_unlock(&src->cache_lock);
    if (!kept) {
      /* Another scan read it at the same moment: keep theirs, use ours this once. */
      atomic_fetch_sub(&b->refs, 1);
      unreserve_cache(db, src, len);
    }
  }
  return b;
}

/* The index of the next file batch to scan: 0 with *i set; 1 past the last; -1 failed. */
static int next_file_batch_index(fg_scan *s, int64_t *i, const char **err) {
  if (s->error) {
    *err = s->error;
    return -1;
  }
  if (s->cancelled) {
    *err = "INTERRUPT Error: the query was cancelled";
    return -1;
  }
  *i = atomic_fetch_add(&s->next_file_batch, 1);
  return *i >= s->source->nfile_batches ? 1 : 0;
}

/* Whether every window of file batch i is converted already for every column this scan reads
   (a hint: an eviction may still take them before they are used; see emit_cached_window). */
static int batch_converted(const fg_scan *s, int64_t i) {
  fg_source *src = s->source;
  if (!src->vcache) return 0;
  int all = 1;
  pthread_rwlock_rdlock(&src->cache_lock);
  for (int64_t w = src->win_base[i]; w < src->win_base[i + 1] && all; w++) {
    for (idx_t p = 0; p < s->nproj && all; p++) {
      if (!atomic_load(&src->vcache[w * src->ncols + (int64_t)s->proj[p]])) all = 0;
    }
  }
  pthread_rwlock_unlock(&src->cache_lock);
  if (all) atomic_store(&src->last_used, now_ms());
  return all;
}

static int read_file_batch(fg_scan *s, int64_t i, fg_batch **out, const char **err, char *buf, size_t buflen) {
  const fg_source *src = s->source;
  const double *d = src->file_batches + 8 * i;
  int fd = s->fds[(int)d[0]];
  int64_t offset = (int64_t)d[1], length = (int64_t)d[2];
  fg_batch *b = calloc(1, sizeof *b);
  atomic_init(&b->refs, 1);
  b->length = (int64_t)d[3];
  b->ncols = src->ncols;
  b->columns = calloc((size_t)(b->ncols ? b->ncols : 1), sizeof(struct ArrowArray *));
  b->blocks = calloc((size_t)(b->ncols ? b->ncols : 1), sizeof(fg_block *));
  if (!b->columns || !b->blocks) {
    batch_unref(b);
    *err = "out of memory reading a table";
    return -1;
  }
  const double *nodes = src->file_nodes + 2 * (int64_t)d[4];
  const double *bufs = src->file_buffers + 2 * (int64_t)d[6];
  fg_dict_context dc = {s, (int)d[0]};
  ipc_cursor c = {nodes, (int64_t)d[5], 0, bufs, (int64_t)d[7], 0, NULL, 0, scan_dictionary, &dc, b, 0};
  /* Only the projected columns' bytes are read: a query of two columns reads two columns. Each
     column's bytes are one block (its buffers are contiguous in the IPC body). */
  for (int64_t k = 0; k < b->ncols; k++) {
    int64_t node = c.node, at = c.buf;
    int64_t lo = INT64_MAX, hi = -1;
    skip_field(&src->fields[k], &c, &lo, &hi);
    if (!s->wanted[k]) continue;
    if (hi < 0) lo = hi = 0; /* no bytes at all (empty or all-null without buffers) */
    fg_block *block = NULL;
    if (lo < 0 || hi > length || (hi > lo && !(block = column_block(s, i, k, fd, offset + lo, hi - lo)))) {
      batch_unref(b);
      *err = "the table's file changed while it was read; run the query again";
      return -1;
    }
    if (block) b->blocks[b->nblocks++] = block;
    c.node = node;
    c.buf = at;
    c.body = block ? block->data : ZERO_BLOCK;
    c.body_len = hi - lo;
    c.base = lo;
    b->columns[k] = lay_out(&src->fields[k], &c, buf, buflen);
    if (!b->columns[k] || b->columns[k]->length != b->length) {
      if (b->columns[k] && !buf[0]) snprintf(buf, buflen, "a column's length differs from its record batch's");
      batch_unref(b);
      *err = buf;
      return -1;
    }
  }
  *out = b;
  return 0;
}

static int next_batch(fg_scan *s, fg_batch **out, const char **err) {
  pthread_mutex_lock(&s->mu);
  while (!s->head && !s->finished && !s->cancelled && !s->error) pthread_cond_wait(&s->cv, &s->mu);
  int r;
  if (s->cancelled) {
    *err = "INTERRUPT Error: the query was cancelled";
    r = -1;
  } else if (s->error) {
    *err = s->error;
    r = -1;
  } else if (s->head) {
    *out = s->head;
    s->head = s->head->next;
    if (!s->head) s->tail = NULL;
    s->queued--;
    r = 0;
    if (s->full_signalled && s->queued < MAX_QUEUED_BATCHES) {
      s->full_signalled = 0;
      pthread_mutex_unlock(&s->mu);
      emit_scan_event(s->db, SCAN_DRAIN, s->id, NULL);
      return r;
    }
  } else {
    r = 1;
  }
  pthread_mutex_unlock(&s->mu);
  return r;
}

/* Hands DuckDB window `w` of the cached batch: its own vectors again, nothing converted. 0, or
   -1 when the window was evicted meanwhile (the batch is then read from its file). */
static int emit_cached_window(fg_scan *s, fg_local *l, duckdb_data_chunk output) {
  fg_source *src = s->source;
  int64_t w = l->pos / (int64_t)duckdb_vector_size();
  int64_t n = window_rows(src, l->file_batch, w);
  int64_t slot = src->win_base[l->file_batch] + w;
  int rc = 0;
  pthread_rwlock_rdlock(&src->cache_lock);
  for (idx_t p = 0; p < s->nproj && rc == 0; p++) {
    if (!atomic_load(&src->vcache[slot * src->ncols + (int64_t)s->proj[p]])) rc = -1;
  }
  for (idx_t p = 0; p < s->nproj && rc == 0; p++) {
    duckdb_data_chunk c = atomic_load(&src->vcache[slot * src->ncols + (int64_t)s->proj[p]]);
    duckdb_vector_reference_vector(duckdb_data_chunk_get_vector(output, p), duckdb_data_chunk_get_vector(c, 0));
  }
  pthread_rwlock_unlock(&src->cache_lock);
  if (rc == 0) {
    duckdb_data_chunk_set_size(output, (idx_t)n);
    l->pos += n;
  }
  return rc;
}

/* Keeps a converted vector for the scans to come, if the cache has room; whether it took it. */
static int keep_converted(fg_scan *s, fg_local *l, int64_t col, int64_t n, duckdb_data_chunk converted) {
  fg_source *src = s->source;
  if (!src->vcache || l->file_batch < 0) return 0;
  int64_t w = l->pos / (int64_t)duckdb_vector_size();
  _Atomic(duckdb_data_chunk) *slot = &src->vcache[(src->win_base[l->file_batch] + w) * src->ncols + col];
  if (atomic_load(slot)) return 0;
  int64_t charge = vector_charge(src, col, n);
  if (!reserve_cache(s->db, src, charge)) return 0;
  duckdb_data_chunk none = NULL;
  pthread_rwlock_rdlock(&src->cache_lock);
  int kept = atomic_compare_exchange_strong(slot, &none, converted);
  pthread_rwlock_unlock(&src->cache_lock);
  if (!kept) unreserve_cache(s->db, src, charge);
  return kept;
}

static void scan_function(duckdb_function_info info, duckdb_data_chunk output) {
  fg_scan *s = duckdb_function_get_init_data(info);
  fg_local *l = duckdb_function_get_local_init_data(info);
  for (;;) {
    if (l->from_cache) {
      if (l->pos < (int64_t)s->source->file_batches[8 * l->file_batch + 3]) {
        if (emit_cached_window(s, l, output) == 0) return;
        /* Evicted meanwhile: the rest of this batch comes from its file, from this window on. */
        const char *err = NULL;
        char detail[200] = {0};
        l->from_cache = 0;
        int64_t pos = l->pos;
        if (read_file_batch(s, l->file_batch, &l->batch, &err, detail, sizeof detail) != 0) {
          duckdb_function_set_error(info, err);
          return;
        }
        l->pos = pos;
        break;
      }
      l->from_cache = 0;
    }
    if (!l->batch) {
      const char *err = NULL;
      char detail[200] = {0};
      int r;
      l->file_batch = -1;
      if (s->source->nfiles) {
        int64_t i = 0;
        r = next_file_batch_index(s, &i, &err);
        if (r == 0 && batch_converted(s, i)) {
          l->file_batch = i;
          l->from_cache = 1;
          l->pos = 0;
          continue;
        }
        if (r == 0) {
          r = read_file_batch(s, i, &l->batch, &err, detail, sizeof detail);
          l->file_batch = i;
          if (s->source->cache) atomic_store(&s->source->last_used, now_ms());
        }
      } else {
        r = next_batch(s, &l->batch, &err);
      }
      if (r == 1) {
        duckdb_data_chunk_set_size(output, 0);
        return;
      }
      if (r < 0) {
        duckdb_function_set_error(info, err);
        return;
      }
      l->pos = 0;
    }
    if (l->pos >= l->batch->length) {
      batch_unref(l->batch);
      l->batch = NULL;
      continue;
    }
    break;
  }
  fg_batch *b = l->batch;
  int64_t n = b->length - l->pos;
  int64_t cap = (int64_t)duckdb_vector_size();
  if (n > cap) n = cap;
  for (idx_t i = 0; i < s->nproj; i++) {
    idx_t col = s->proj[i];
    fg_window *w = calloc(1, sizeof *w);
    w->column = *b->columns[col];
    w->column.offset += l->pos;
    w->column.length = n;
    /* The window's exact null count: DuckDB reads a dictionary column's validity only when it
       is positive. */
    if (w->column.null_count != 0 && w->column.buffers[0]) {
      w->column.null_count = count_nulls(w->column.buffers[0], w->column.offset, w->column.length);
    }
    w->batch = b;
    atomic_fetch_add(&b->refs, 1);
    struct ArrowArray *root = window_root(w, n);
    duckdb_data_chunk converted = NULL;
    duckdb_error_data e = duckdb_data_chunk_from_arrow(l->converter, root, s->source->converted[col], &converted);
    if (root->release) root->release(root); /* DuckDB did not take it */
    free(root);
    if (e && duckdb_error_data_has_error(e)) {
      duckdb_function_set_error(info, duckdb_error_data_message(e));
      duckdb_destroy_error_data(&e);
      if (converted) duckdb_destroy_data_chunk(&converted);
      return;
    }
    if (e) duckdb_destroy_error_data(&e);
    duckdb_vector_reference_vector(duckdb_data_chunk_get_vector(output, i), duckdb_data_chunk_get_vector(converted, 0));
    if (!keep_converted(s, l, (int64_t)col, n, converted)) duckdb_destroy_data_chunk(&converted);
  }
  duckdb_data_chunk_set_size(output, (idx_t)n);
  l->pos += n;
}

/* ---------------------------------------------------------------- result bodies */

/* Result bodies are recycled: the Flight layer hands each one back (releaseBody) once the
   transport has flushed it, so large results cost no page faults and no garbage collection.
   Every byte of a recycled body is rewritten (padding included) before it is sent again. */
#define POOL_MAX_BYTES ((size_t)64 << 20)

static uint8_t *body_get(fg_db *db, size_t size, size_t *cap, napi_ref *buffer) {
  pthread_mutex_lock(&db->pool_mu);
  int best = -1;
  for (int i = 0; i < db->npool; i++) {
    if (db->pool[i].cap >= size && db->pool[i].cap <= 2 * size + (1 << 20) && (best < 0 || db->pool[i].cap < db->pool[best].cap)) best = i;
  }
  uint8_t *mem = NULL;
  *buffer = NULL;
  if (best >= 0) {
    mem = db->pool[best].mem;
    *cap = db->pool[best].cap;
    *buffer = db->pool[best].buffer;
    db->pool[best] = db->pool[--db->npool];
  }
  pthread_mutex_unlock(&db->pool_mu);
  if (mem) return mem;
  *cap = (size + 0xffff) & ~(size_t)0xffff;
  if (*cap == 0) *cap = 64;
  return malloc(*cap);
}

/* Back to the pool; without room, memory of our own is freed, and a Buffer's is left to its
   finalizer once the reference is dropped (on the JavaScript thread: see drop_orphans). */
static void body_put(fg_db *db, uint8_t *mem, size_t cap, napi_ref buffer) {
  struct fg_orphan *o = NULL;
  pthread_mutex_lock(&db->pool_mu);
  if (db->npool < (int)(sizeof db->pool / sizeof db->pool[0]) && cap <= POOL_MAX_BYTES) {
    db->pool[db->npool].mem = mem;
    db->pool[db->npool].cap = cap;
    db->pool[db->npool].buffer = buffer;
    db->npool++;
    mem = NULL;
  } else if (buffer && (o = malloc(sizeof *o))) {
    o->buffer = buffer;
    o->next = db->orphans;
    db->orphans = o;
  }
  pthread_mutex_unlock(&db->pool_mu);
  if (!buffer) free(mem);
}

static void drop_orphans(napi_env env, fg_db *db) {
  pthread_mutex_lock(&db->pool_mu);
  struct fg_orphan *o = db->orphans;
  db->orphans = NULL;
  pthread_mutex_unlock(&db->pool_mu);
  while (o) {
    struct fg_orphan *next = o->next;
    napi_delete_reference(env, o->buffer);
    free(o);
    o = next;
  }
}

static void block_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* A body lent to JavaScript: one Buffer per pool block, made the first time the block is lent
   and handed out again with it, so that results allocate no new ArrayBuffer per batch (each
   would count as fresh external memory and drive the collector). Back to the pool at
   releaseBody, or when the token is collected. */
typedef struct {
  fg_db *db;
  uint8_t *mem;
  size_t cap;
  napi_ref buffer;
  int returned;
} fg_lent_body;

static void lent_token_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fg_lent_body *b = data;
  if (!b->returned) body_put(b->db, b->mem, b->cap, b->buffer);
  free(b);
}

/* ---------------------------------------------------------------- results as IPC bodies */

typedef struct {
  double *nodes;
  int64_t nnodes, capnodes;
  double *bufs;
  int64_t nbufs, capbufs;
  const void **src; /* pointers to copy from, one per buffer */
  int64_t body;     /* running body length, 8-byte aligned */
} ipc_plan;

static int plan_push_node(ipc_plan *p, int64_t length, int64_t nulls) {
  if (p->nnodes == p->capnodes) {
    int64_t cap = p->capnodes ? p->capnodes * 2 : 16;
    double *n = realloc(p->nodes, (size_t)cap * 2 * sizeof(double));
    if (!n) return -1;
    p->nodes = n;
    p->capnodes = cap;
  }
  p->nodes[2 * p->nnodes] = (double)length;
  p->nodes[2 * p->nnodes + 1] = (double)nulls;
  p->nnodes++;
  return 0;
}

static int plan_push_buffer(ipc_plan *p, const void *src, int64_t len) {
  if (p->nbufs == p->capbufs) {
    int64_t cap = p->capbufs ? p->capbufs * 2 : 32;
    double *n = realloc(p->bufs, (size_t)cap * 2 * sizeof(double));
    const void **s = realloc(p->src, (size_t)cap * sizeof(void *));
    if (!n || !s) return -1;
    p->bufs = n;
    p->src = s;
    p->capbufs = cap;
  }
  if (!src) len = 0;
  p->bufs[2 * p->nbufs] = (double)p->body;
  p->bufs[2 * p->nbufs + 1] = (double)len;
  p->src[p->nbufs] = src;
  p->nbufs++;
  p->body += (len + 7) & ~(int64_t)7;
  return 0;
}

static int64_t count_nulls(const uint8_t *bits, int64_t offset, int64_t length) {
  int64_t valid = 0;
  for (int64_t i = 0; i < length; i++) valid += (bits[(offset + i) >> 3] >> ((offset + i) & 7)) & 1;
  return length - valid;
}

static int fixed_width(const char *f) {
  switch (f[0]) {
    case 'c': case 'C': return 1;
    case 's': case 'S': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'g': return 8;
    case 'd': {
      const char *c = strchr(f, ',');
      c = c ? strchr(c + 1, ',') : NULL;
      return c ? atoi(c + 1) / 8 : 16;
    }
    case 'w': return atoi(f + 2);
    case 't':
      if (f[1] == 'd') return f[2] == 'D' ? 4 : 8;
      if (f[1] == 't') return (f[2] == 's' || f[2] == 'm') ? 4 : 8;
      if (f[1] == 's' || f[1] == 'D') return 8;
      if (f[1] == 'i') return f[2] == 'M' ? 4 : (f[2] == 'D' ? 8 : 16);
      return -1;
    default: return -1;
  }
}

/* Walks an exported array in IPC order, noting each node and each buffer's extent. */
static int plan_array(ipc_plan *p, const struct ArrowSchema *s, const struct ArrowArray *a, char *err, size_t errlen) {
  const char *f = s->format;
  if (s->dictionary) {
    snprintf(err, errlen, "dictionary-encoded result column \"%s\" is not supported yet; cast it to VARCHAR", s->name);
    return -1;
  }
  if (a->offset != 0) {
    snprintf(err, errlen, "result column \"%s\" has a non-zero offset", s->name);
    return -1;
  }
  int64_t len = a->length;
  int64_t nulls = a->null_count;
  const uint8_t *validity = a->n_buffers > 0 ? a->buffers[0] : NULL;
  if (strcmp(f, "n") == 0) return plan_push_node(p, len, len);
  if (nulls < 0) nulls = validity ? count_nulls(validity, 0, len) : 0;
  if (plan_push_node(p, len, nulls)) return -1;
  if (plan_push_buffer(p, nulls ? validity : NULL, nulls ? (len + 7) / 8 : 0)) return -1;
  if (strcmp(f, "b") == 0) return plan_push_buffer(p, a->buffers[1], (len + 7) / 8);
  if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0) {
    const int32_t *off = a->buffers[1];
    if (plan_push_buffer(p, off, (len + 1) * 4)) return -1;
    return plan_push_buffer(p, a->buffers[2], len ? off[len] : 0);
  }
  if (strcmp(f, "U") == 0 || strcmp(f, "Z") == 0) {
    const int64_t *off = a->buffers[1];
    if (plan_push_buffer(p, off, (len + 1) * 8)) return -1;
    return plan_push_buffer(p, a->buffers[2], len ? off[len] : 0);
  }
  if (strcmp(f, "+l") == 0 || strcmp(f, "+m") == 0 || strcmp(f, "+L") == 0) {
    int64_t w = f[1] == 'L' ? 8 : 4;
    if (plan_push_buffer(p, a->buffers[1], (len + 1) * w)) return -1;
    return plan_array(p, s->children[0], a->children[0], err, errlen);
  }
  if (strcmp(f, "+s") == 0 || strncmp(f, "+w:", 3) == 0) {
    for (int64_t i = 0; i < s->n_children; i++) {
      if (plan_array(p, s->children[i], a->children[i], err, errlen)) return -1;
    }
    return 0;
  }
  int w = fixed_width(f);
  if (w <= 0) {
    snprintf(err, errlen, "result column \"%s\" has an Arrow type (%s) flightgate cannot send yet", s->name, f);
    return -1;
  }
  return plan_push_buffer(p, a->buffers[1], len * w);
}

typedef struct fg_out_batch {
  int64_t length;
  ipc_plan plan;
  uint8_t *body;
  size_t cap;
  napi_ref buffer; /* the Buffer over body, when the block was lent before */
} fg_out_batch;

static void free_plan(ipc_plan *p) {
  free(p->nodes);
  free(p->bufs);
  free(p->src);
}

/* ---------------------------------------------------------------- connections and their thread */

enum { JOB_EXECUTE = 1, JOB_FETCH = 2, JOB_CLOSE_RESULT = 3, JOB_DISCONNECT = 4, JOB_DESCRIBE = 5 };

/* A parameter value, converted from JavaScript on the JavaScript thread. */
enum { PARAM_NULL, PARAM_BOOL, PARAM_INT64, PARAM_DOUBLE, PARAM_TEXT, PARAM_BLOB };
typedef struct {
  int kind;
  int64_t i64;
  double f64;
  char *bytes;
  size_t len;
} fg_param;

/* How a result column is written straight from DuckDB's vectors into an IPC body. */
enum { FAST_NONE = 0, FAST_BOOL, FAST_FIXED, FAST_WIDEN_DECIMAL, FAST_STRING, FAST_INTERVAL };
typedef struct {
  int kind;
  int width; /* bytes per value in the vector */
} fg_fast_column;

typedef struct fg_result {
  duckdb_result result;
  duckdb_arrow_options options;
  struct ArrowSchema schema;
  int done;
  /* Set when every column has a direct layout: then batches are coalesced from many chunks. */
  fg_fast_column *fast;
  int materialized; /* computed whole before the first fetch */
} fg_result;

typedef struct fg_conn fg_conn;

typedef struct fg_job {
  int kind;
  fg_conn *conn;
  napi_ref callback;
  /* execute */
  char *sql;
  int internal;
  double materialize_budget; /* bytes the process may grow while a result is computed whole; 0: stream */
  fg_param *params;
  size_t nparams;
  /* describe */
  struct ArrowSchema described;
  struct ArrowSchema described_params;
  /* fetch */
  fg_result *result;
  int64_t max_rows;
  /* outputs */
  char *error;
  duckdb_error_type error_type;
  fg_result *out_result;
  fg_out_batch *batches;
  int nbatches;
  struct fg_job *next;
} fg_job;

struct fg_conn {
  fg_db *db;
  duckdb_connection conn;
  idx_t id;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  fg_job *head, *tail;
  int quit;
  /* Set by interrupt(): no statement starts on this connection afterwards. */
  atomic_int stopped;
  /* Running a statement now (the watcher may interrupt it), and whether the ceiling did. */
  struct fg_conn *active_next;
  int active;
  atomic_int ceiling_hit;
};

static void set_job_error(fg_job *j, const char *msg, duckdb_error_type type) {
  free(j->error);
  j->error = copy_string(msg ? msg : "unknown DuckDB error");
  j->error_type = type;
}

/* DuckDB's own Arrow export is exact for every type but goes chunk by chunk (2,048 rows) and
   through an intermediate copy. For the types whose vectors already hold Arrow's layout (or one
   step from it), we write straight into one IPC body across many chunks; any other column sends
   the whole result down the exact path. */
static int format_is(const char *f, const char *want) { return strcmp(f, want) == 0; }

static fg_fast_column *plan_fast_columns(fg_result *r) {
  idx_t cols = duckdb_column_count(&r->result);
  if ((int64_t)cols != r->schema.n_children) return NULL;
  fg_fast_column *fast = calloc(cols ? cols : 1, sizeof *fast);
  for (idx_t k = 0; k < cols; k++) {
    const struct ArrowSchema *s = r->schema.children[k];
    const char *f = s->format;
    duckdb_type t = duckdb_column_type(&r->result, k);
    fg_fast_column c = {FAST_NONE, 0};
    if (s->dictionary || s->n_children) c.kind = FAST_NONE;
    else if (t == 1 && format_is(f, "b")) c = (fg_fast_column){FAST_BOOL, 1};
    else if ((t == 2 && format_is(f, "c")) || (t == 6 && format_is(f, "C"))) c = (fg_fast_column){FAST_FIXED, 1};
    else if ((t == 3 && format_is(f, "s")) || (t == 7 && format_is(f, "S"))) c = (fg_fast_column){FAST_FIXED, 2};
    else if ((t == 4 && format_is(f, "i")) || (t == 8 && format_is(f, "I")) || (t == 10 && format_is(f, "f")) || (t == 13 && format_is(f, "tdD")))
      c = (fg_fast_column){FAST_FIXED, 4};
    else if ((t == 5 && format_is(f, "l")) || (t == 9 && format_is(f, "L")) || (t == 11 && format_is(f, "g")) || (t == 14 && format_is(f, "ttu")))
      c = (fg_fast_column){FAST_FIXED, 8};
    else if ((t == 12 || t == 20 || t == 21 || t == 22 || t == 31) && strncmp(f, "ts", 2) == 0) c = (fg_fast_column){FAST_FIXED, 8};
    else if (t == 16 && strncmp(f, "d:", 2) == 0 && !strstr(f + 2, ",256")) c = (fg_fast_column){FAST_FIXED, 16};
    else if ((t == 17 && format_is(f, "u")) || (t == 18 && format_is(f, "z"))) c = (fg_fast_column){FAST_STRING, 16};
    else if (t == 15 && format_is(f, "tin")) c = (fg_fast_column){FAST_INTERVAL, 16};
    else if (t == 19 && strncmp(f, "d:", 2) == 0 && !strstr(f + 2, ",256")) {
      duckdb_logical_type lt = duckdb_column_logical_type(&r->result, k);
      duckdb_type internal = duckdb_decimal_internal_type(lt);
      duckdb_destroy_logical_type(&lt);
      if (internal == 3) c = (fg_fast_column){FAST_WIDEN_DECIMAL, 2};
      else if (internal == 4) c = (fg_fast_column){FAST_WIDEN_DECIMAL, 4};
      else if (internal == 5) c = (fg_fast_column){FAST_WIDEN_DECIMAL, 8};
      else if (internal == 16) c = (fg_fast_column){FAST_FIXED, 16};
    }
    if (c.kind == FAST_NONE) {
      free(fast);
      return NULL;
    }
    fast[k] = c;
  }
  return fast;
}

static uint32_t string_length(const uint8_t *s) {
  uint32_t len;
  memcpy(&len, s, 4);
  return len;
}

static const uint8_t *string_bytes(const uint8_t *s) {
  if (string_length(s) <= 12) return s + 4;
  const uint8_t *p;
  memcpy(&p, s + 8, sizeof p);
  return p;
}

static int64_t chunk_nulls(const uint64_t *validity, idx_t n) {
  if (!validity) return 0;
  int64_t valid = 0;
  idx_t words = n / 64;
  for (idx_t w = 0; w < words; w++) valid += __builtin_popcountll(validity[w]);
  for (idx_t i = words * 64; i < n; i++) valid += (validity[i / 64] >> (i % 64)) & 1;
  return (int64_t)n - valid;
}

/* Appends `n` bits from `src` (or ones, when src is NULL) at bit `at` of `dst`. */
static void append_bits(uint8_t *dst, int64_t at, const uint64_t *src, idx_t n) {
  if (!src) {
    for (idx_t i = 0; i < n; i++) dst[(at + i) >> 3] |= (uint8_t)(1u << ((at + i) & 7));
    return;
  }
  idx_t i = 0;
  if ((at & 7) == 0) {
    idx_t whole = n / 8;
    memcpy(dst + (at >> 3), src, whole);
    i = whole * 8;
  }
  for (; i < n; i++) {
    if ((src[i / 64] >> (i % 64)) & 1) dst[(at + i) >> 3] |= (uint8_t)(1u << ((at + i) & 7));
  }
}

/* The result's next chunk: 1 with a chunk, 0 at the end, -1 on an error (set on the job). */
static int next_result_chunk(fg_job *j, duckdb_data_chunk *out) {
  fg_result *r = j->result;
  duckdb_data_chunk chunk = duckdb_fetch_chunk(r->result);
  if (!chunk) {
    const char *e = duckdb_result_error(&r->result);
    if (e) {
      set_job_error(j, e, duckdb_result_error_type(&r->result));
      return -1;
    }
    r->done = 1;
    return 0;
  }
  if (duckdb_data_chunk_get_size(chunk) == 0) {
    duckdb_destroy_data_chunk(&chunk);
    r->done = 1;
    return 0;
  }
  *out = chunk;
  return 1;
}

/* The bytes between buffers: a recycled body must not carry a former result's bytes there. */
static void zero_padding(fg_out_batch *ob) {
  const ipc_plan *p = &ob->plan;
  for (int64_t k = 0; k < p->nbufs; k++) {
    int64_t off = (int64_t)p->bufs[2 * k], len = (int64_t)p->bufs[2 * k + 1];
    int64_t padded = (len + 7) & ~(int64_t)7;
    if (padded > len) memset(ob->body + off + len, 0, (size_t)(padded - len));
  }
}

/* Fetches chunks until `max_rows` (or 64 MB of strings) and writes them as one IPC body. */
static void run_fetch_fast(fg_job *j) {
  fg_result *r = j->result;
  idx_t cols = (idx_t)r->schema.n_children;
  duckdb_data_chunk *chunks = NULL;
  int nchunks = 0, cap = 0;
  int64_t rows = 0, string_bytes_total = 0;
  while (!r->done && rows < j->max_rows && string_bytes_total < (64 << 20)) {
    duckdb_data_chunk chunk = NULL;
    if (next_result_chunk(j, &chunk) <= 0) break;
    idx_t size = duckdb_data_chunk_get_size(chunk);
    if (nchunks == cap) {
      cap = cap ? cap * 2 : 64;
      chunks = realloc(chunks, (size_t)cap * sizeof *chunks);
    }
    chunks[nchunks++] = chunk;
    rows += (int64_t)size;
    for (idx_t k = 0; k < cols; k++) {
      if (r->fast[k].kind != FAST_STRING) continue;
      duckdb_vector v = duckdb_data_chunk_get_vector(chunk, k);
      const uint8_t *data = duckdb_vector_get_data(v);
      const uint64_t *validity = duckdb_vector_get_validity(v);
      for (idx_t i = 0; i < size; i++) {
        if (!validity || ((validity[i / 64] >> (i % 64)) & 1)) string_bytes_total += string_length(data + 16 * i);
      }
    }
  }
  if (j->error || rows == 0) {
    for (int c = 0; c < nchunks; c++) duckdb_destroy_data_chunk(&chunks[c]);
    free(chunks);
    return;
  }
  j->batches = calloc(1, sizeof(fg_out_batch));
  fg_out_batch *ob = &j->batches[0];
  ob->length = rows;
  ipc_plan *p = &ob->plan;
  /* First the layout: each column's node and buffer sizes. */
  int64_t *string_sizes = calloc(cols ? cols : 1, sizeof(int64_t));
  int64_t *nulls = calloc(cols ? cols : 1, sizeof(int64_t));
  for (idx_t k = 0; k < cols; k++) {
    for (int c = 0; c < nchunks; c++) {
      duckdb_vector v = duckdb_data_chunk_get_vector(chunks[c], k);
      idx_t size = duckdb_data_chunk_get_size(chunks[c]);
      const uint64_t *validity = duckdb_vector_get_validity(v);
      nulls[k] += chunk_nulls(validity, size);
      if (r->fast[k].kind == FAST_STRING) {
        const uint8_t *data = duckdb_vector_get_data(v);
        for (idx_t i = 0; i < size; i++) {
          if (!validity || ((validity[i / 64] >> (i % 64)) & 1)) string_sizes[k] += string_length(data + 16 * i);
        }
      }
    }
    plan_push_node(p, rows, nulls[k]);
    plan_push_buffer(p, nulls[k] ? (const void *)1 : NULL, nulls[k] ? (rows + 7) / 8 : 0);
    switch (r->fast[k].kind) {
      case FAST_BOOL: plan_push_buffer(p, (const void *)1, (rows + 7) / 8); break;
      case FAST_FIXED: plan_push_buffer(p, (const void *)1, rows * r->fast[k].width); break;
      case FAST_WIDEN_DECIMAL:
      case FAST_INTERVAL: plan_push_buffer(p, (const void *)1, rows * 16); break;
      case FAST_STRING:
        plan_push_buffer(p, (const void *)1, (rows + 1) * 4);
        plan_push_buffer(p, (const void *)1, string_sizes[k]);
        break;
    }
  }
  int too_big = 0;
  for (idx_t k = 0; k < cols; k++) too_big |= string_sizes[k] > INT32_MAX;
  ob->body = too_big ? NULL : body_get(j->conn->db, p->body ? (size_t)p->body : 1, &ob->cap, &ob->buffer);
  if (ob->body) zero_padding(ob);
  if (!ob->body) {
    set_job_error(j, too_big ? "a result batch's strings exceed 2 GiB" : "out of memory for a result batch", 0);
  } else {
    /* Then the bytes, column by column, buffer by buffer, in the order just planned. */
    int64_t b = 0;
    for (idx_t k = 0; k < cols; k++) {
      int kind = r->fast[k].kind, w = r->fast[k].width;
      uint8_t *validity_out = nulls[k] ? ob->body + (int64_t)p->bufs[2 * b] : NULL;
      if (validity_out) memset(validity_out, 0, (size_t)p->bufs[2 * b + 1]);
      b++;
      uint8_t *out = ob->body + (int64_t)p->bufs[2 * b];
      if (kind == FAST_BOOL) memset(out, 0, (size_t)p->bufs[2 * b + 1]);
      uint8_t *data_out = kind == FAST_STRING ? ob->body + (int64_t)p->bufs[2 * (b + 1)] : NULL;
      b += kind == FAST_STRING ? 2 : 1;
      int64_t at = 0, text = 0;
      for (int c = 0; c < nchunks; c++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunks[c], k);
        idx_t size = duckdb_data_chunk_get_size(chunks[c]);
        const uint64_t *validity = duckdb_vector_get_validity(v);
        const uint8_t *data = duckdb_vector_get_data(v);
        if (validity_out) append_bits(validity_out, at, validity, size);
        switch (kind) {
          case FAST_BOOL:
            for (idx_t i = 0; i < size; i++) {
              if (data[i]) out[(at + i) >> 3] |= (uint8_t)(1u << ((at + i) & 7));
            }
            break;
          case FAST_FIXED: memcpy(out + at * w, data, size * (idx_t)w); break;
          case FAST_WIDEN_DECIMAL:
            for (idx_t i = 0; i < size; i++) {
              int64_t v64 = w == 2 ? ((const int16_t *)data)[i] : w == 4 ? ((const int32_t *)data)[i] : ((const int64_t *)data)[i];
              int64_t hi = v64 < 0 ? -1 : 0;
              memcpy(out + (at + i) * 16, &v64, 8);
              memcpy(out + (at + i) * 16 + 8, &hi, 8);
            }
            break;
          case FAST_INTERVAL:
            for (idx_t i = 0; i < size; i++) {
              const uint8_t *src = data + 16 * i; /* months int32, days int32, micros int64 */
              int64_t micros;
              memcpy(&micros, src + 8, 8);
              int64_t nanos = micros * 1000;
              memcpy(out + (at + i) * 16, src, 8);
              memcpy(out + (at + i) * 16 + 8, &nanos, 8);
            }
            break;
          case FAST_STRING: {
            int32_t *offsets = (int32_t *)out;
            for (idx_t i = 0; i < size; i++) {
              offsets[at + i] = (int32_t)text;
              if (validity && !((validity[i / 64] >> (i % 64)) & 1)) continue;
              const uint8_t *sv = data + 16 * i;
              uint32_t len = string_length(sv);
              memcpy(data_out + text, string_bytes(sv), len);
              text += len;
            }
            break;
          }
        }
        at += (int64_t)size;
      }
      if (kind == FAST_STRING) ((int32_t *)out)[at] = (int32_t)text;
    }
    j->nbatches = 1;
  }
  free(string_sizes);
  free(nulls);
  for (int c = 0; c < nchunks; c++) duckdb_destroy_data_chunk(&chunks[c]);
  free(chunks);
  if (j->error) {
    free_plan(&ob->plan);
    if (ob->body) body_put(j->conn->db, ob->body, ob->cap, ob->buffer);
    free(j->batches);
    j->batches = NULL;
    j->nbatches = 0;
  }
}

static duckdb_value param_value(const fg_param *p) {
  switch (p->kind) {
    case PARAM_BOOL: return duckdb_create_bool(p->i64 != 0);
    case PARAM_INT64: return duckdb_create_int64(p->i64);
    case PARAM_DOUBLE: return duckdb_create_double(p->f64);
    case PARAM_TEXT: return duckdb_create_varchar_length(p->bytes, p->len);
    case PARAM_BLOB: return duckdb_create_blob((const uint8_t *)p->bytes, p->len);
    default: return duckdb_create_null_value();
  }
}

/* Prepares the job's statement: one statement, and a query unless the job is internal. The
   statement type comes from DuckDB's parser, so no spelling of a command passes for a query. */
static duckdb_prepared_statement prepare_one(fg_job *j, duckdb_extracted_statements *ex, idx_t *count) {
  fg_conn *c = j->conn;
  *count = duckdb_extract_statements(c->conn, j->sql, ex);
  if (*count == 0) {
    const char *e = *ex ? duckdb_extract_statements_error(*ex) : NULL;
    set_job_error(j, e ? e : "the statement is empty", 0);
    return NULL;
  }
  if (*count != 1 && !j->internal) {
    set_job_error(j, "INVALID_ARGUMENT: send one statement per query", 0);
    return NULL;
  }
  return NULL;
}

static int prepare_at(fg_job *j, duckdb_extracted_statements ex, idx_t i, duckdb_prepared_statement *ps) {
  if (duckdb_prepare_extracted_statement(j->conn->conn, ex, i, ps) != DuckDBSuccess) {
    set_job_error(j, duckdb_prepare_error(*ps), 0);
    duckdb_destroy_prepare(ps);
    return -1;
  }
  if (!j->internal && duckdb_prepared_statement_type(*ps) != FG_DUCKDB_STATEMENT_TYPE_SELECT) {
    set_job_error(j, "INVALID_ARGUMENT: only queries (SELECT) are accepted", 0);
    duckdb_destroy_prepare(ps);
    return -1;
  }
  return 0;
}

/* Results computed whole are watched by one thread: every millisecond it compares the
   process's size with each one's start and budget (what the scan cache took meanwhile is the
   cache's), and interrupts a statement that went past; it then streams instead. The statement's
   own thread meanwhile waits inside DuckDB, as its workers do, instead of polling. */
typedef struct fg_watch {
  duckdb_connection conn;
  fg_db *db;
  double start, budget;
  long long cached_at_start;
  atomic_int exceeded;
  struct fg_watch *next;
} fg_watch;

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cv = PTHREAD_COND_INITIALIZER;
static fg_watch *watches;
static fg_conn *actives; /* connections running a statement */
static int watcher_running;

static void *watch_results(void *arg) {
  (void)arg;
  pthread_mutex_lock(&watch_mu);
  for (;;) {
    while (!watches && !actives) pthread_cond_wait(&watch_cv, &watch_mu);
    /* A statement growing by many small allocations (a histogram's map, say) is stopped here:
       past the ceiling, every running statement is interrupted and fails RESOURCE_EXHAUSTED. */
    if (actives && memory_ceiling_exceeded()) {
      for (fg_conn *c = actives; c; c = c->active_next) {
        if (atomic_exchange(&c->ceiling_hit, 1)) continue;
        memory_ceiling_note_refusal();
        duckdb_interrupt(c->conn);
      }
    }
    double resident = (double)memory_ceiling_resident();
    for (fg_watch *w = watches; w; w = w->next) {
      long long cached = atomic_load(&w->db->cache_bytes) - w->cached_at_start;
      if (!atomic_load(&w->exceeded) && resident - (double)(cached > 0 ? cached : 0) > w->start + w->budget) {
        atomic_store(&w->exceeded, 1);
        duckdb_interrupt(w->conn);
      }
    }
    pthread_mutex_unlock(&watch_mu);
    usleep(1000);
    pthread_mutex_lock(&watch_mu);
  }
  return NULL;
}

static int start_watcher_locked(void) {
  if (watcher_running) return 0;
  pthread_t t;
  if (pthread_create(&t, NULL, watch_results, NULL) != 0) return -1;
  pthread_detach(t);
  watcher_running = 1;
  return 0;
}

static void active_begin(fg_conn *c) {
  atomic_store(&c->ceiling_hit, 0);
  pthread_mutex_lock(&watch_mu);
  if (start_watcher_locked() == 0) {
    c->active_next = actives;
    actives = c;
    c->active = 1;
    pthread_cond_signal(&watch_cv);
  }
  pthread_mutex_unlock(&watch_mu);
}

static void active_end(fg_conn *c) {
  pthread_mutex_lock(&watch_mu);
  if (c->active) {
    for (fg_conn **pp = &actives; *pp; pp = &(*pp)->active_next) {
      if (*pp == c) {
        *pp = c->active_next;
        break;
      }
    }
    c->active = 0;
  }
  pthread_mutex_unlock(&watch_mu);
}

static int watch_start(fg_watch *w) {
  w->start = (double)memory_ceiling_resident();
  if (w->start <= 0) return -1;
  w->cached_at_start = atomic_load(&w->db->cache_bytes);
  atomic_init(&w->exceeded, 0);
  pthread_mutex_lock(&watch_mu);
  if (start_watcher_locked() != 0) {
    pthread_mutex_unlock(&watch_mu);
    return -1;
  }
  w->next = watches;
  watches = w;
  pthread_cond_signal(&watch_cv);
  pthread_mutex_unlock(&watch_mu);
  return 0;
}

static void watch_end(fg_watch *w) {
  pthread_mutex_lock(&watch_mu);
  for (fg_watch **pp = &watches; *pp; pp = &(*pp)->next) {
    if (*pp == w) {
      *pp = w->next;
      break;
    }
  }
  pthread_mutex_unlock(&watch_mu);
}

/* Computes the result whole, within the job's budget: 0 with the result in *out, 1 when the
   statement failed (the job's error set), -1 when the budget ran out (stream instead). */
static int materialize_within_budget(fg_job *j, duckdb_prepared_statement ps, duckdb_result *out) {
  fg_watch w = {.conn = j->conn->conn, .db = j->conn->db, .budget = j->materialize_budget};
  if (watch_start(&w) != 0) return -1;
  duckdb_pending_result pending = NULL;
  int rc = 0;
  if (duckdb_pending_prepared(ps, &pending) != DuckDBSuccess) {
    const char *e = duckdb_pending_error(pending);
    set_job_error(j, e ? e : "the statement failed", 0);
    rc = 1;
  } else if (duckdb_execute_pending(pending, out) != DuckDBSuccess) {
    if (!atomic_load(&w.exceeded)) set_job_error(j, duckdb_result_error(out), duckdb_result_error_type(out));
    duckdb_destroy_result(out);
    rc = atomic_load(&w.exceeded) ? -1 : 1;
  }
  watch_end(&w);
  duckdb_destroy_pending(&pending);
  return rc;
}

static void run_execute(fg_job *j) {
  duckdb_extracted_statements ex = NULL;
  idx_t n = 0;
  prepare_one(j, &ex, &n);
  if (j->error) {
    if (ex) duckdb_destroy_extracted(&ex);
    return;
  }
  for (idx_t i = 0; i < n; i++) {
    duckdb_prepared_statement ps = NULL;
    if (prepare_at(j, ex, i, &ps) != 0) break;
    if (i + 1 == n) {
      idx_t expected = duckdb_nparams(ps);
      if (expected != j->nparams) {
        char msg[160];
        snprintf(msg, sizeof msg, "INVALID_ARGUMENT: the statement has %llu parameters but %llu values were bound",
                 (unsigned long long)expected, (unsigned long long)j->nparams);
        set_job_error(j, msg, 0);
        duckdb_destroy_prepare(&ps);
        break;
      }
      int bad = 0;
      for (size_t k = 0; k < j->nparams && !bad; k++) {
        duckdb_value v = param_value(&j->params[k]);
        if (duckdb_bind_value(ps, k + 1, v) != DuckDBSuccess) {
          char msg[160];
          snprintf(msg, sizeof msg, "INVALID_ARGUMENT: parameter %llu does not fit the statement: %s", (unsigned long long)k + 1,
                   duckdb_prepare_error(ps) ? duckdb_prepare_error(ps) : "wrong type");
          set_job_error(j, msg, 0);
          bad = 1;
        }
        duckdb_destroy_value(&v);
      }
      if (bad) {
        duckdb_destroy_prepare(&ps);
        break;
      }
    }
    /* DuckDB's streaming collector copies each chunk as it comes, so a filter's sparse chunks
       cost a handover between threads each; a result computed whole is gathered densely, in
       parallel. That is tried when the result is expected small, and given up (the statement
       starts again, streaming) once the process has grown by the budget while computing it. */
    fg_result *r = calloc(1, sizeof *r);
    int whole = j->materialize_budget > 0 && i + 1 == n ? materialize_within_budget(j, ps, &r->result) : -1;
    if (whole == 1) {
      free(r);
      duckdb_destroy_prepare(&ps);
      break;
    }
    r->materialized = whole == 0;
    if (whole != 0) {
      duckdb_pending_result pending = NULL;
      if (duckdb_pending_prepared_streaming(ps, &pending) != DuckDBSuccess) {
        set_job_error(j, duckdb_pending_error(pending), 0);
        duckdb_destroy_pending(&pending);
        duckdb_destroy_prepare(&ps);
        free(r);
        break;
      }
      if (duckdb_execute_pending(pending, &r->result) != DuckDBSuccess) {
        set_job_error(j, duckdb_result_error(&r->result), duckdb_result_error_type(&r->result));
        duckdb_destroy_result(&r->result);
        free(r);
        duckdb_destroy_pending(&pending);
        duckdb_destroy_prepare(&ps);
        break;
      }
      duckdb_destroy_pending(&pending);
    }
    duckdb_destroy_prepare(&ps);
    if (i + 1 < n) {
      duckdb_destroy_result(&r->result);
      free(r);
      continue;
    }
    idx_t cols = duckdb_column_count(&r->result);
    duckdb_logical_type *types = calloc(cols ? cols : 1, sizeof *types);
    const char **names = calloc(cols ? cols : 1, sizeof *names);
    for (idx_t k = 0; k < cols; k++) {
      types[k] = duckdb_column_logical_type(&r->result, k);
      names[k] = duckdb_column_name(&r->result, k);
    }
    r->options = duckdb_result_get_arrow_options(&r->result);
    duckdb_error_data e = duckdb_to_arrow_schema(r->options, types, names, cols, &r->schema);
    for (idx_t k = 0; k < cols; k++) duckdb_destroy_logical_type(&types[k]);
    free(types);
    free(names);
    if (e && duckdb_error_data_has_error(e)) {
      set_job_error(j, duckdb_error_data_message(e), 0);
      duckdb_destroy_error_data(&e);
      duckdb_destroy_arrow_options(&r->options);
      duckdb_destroy_result(&r->result);
      free(r);
      break;
    }
    if (e) duckdb_destroy_error_data(&e);
    r->fast = plan_fast_columns(r);
    j->out_result = r;
  }
  duckdb_destroy_extracted(&ex);
}

/* The result and parameter schemas of a statement, without running it. */
static void run_describe(fg_job *j) {
  duckdb_extracted_statements ex = NULL;
  idx_t n = 0;
  prepare_one(j, &ex, &n);
  duckdb_prepared_statement ps = NULL;
  if (!j->error && n != 1) set_job_error(j, "INVALID_ARGUMENT: send one statement per query", 0);
  if (j->error || prepare_at(j, ex, 0, &ps) != 0) {
    if (ex) duckdb_destroy_extracted(&ex);
    return;
  }
  duckdb_arrow_options opts = NULL;
  duckdb_connection_get_arrow_options(j->conn->conn, &opts);
  for (int pass = 0; pass < 2 && !j->error; pass++) {
    idx_t cols = pass == 0 ? duckdb_prepared_statement_column_count(ps) : duckdb_nparams(ps);
    duckdb_logical_type *types = calloc(cols ? cols : 1, sizeof *types);
    char **names = calloc(cols ? cols : 1, sizeof *names);
    for (idx_t k = 0; k < cols; k++) {
      if (pass == 0) {
        types[k] = duckdb_prepared_statement_column_logical_type(ps, k);
        const char *cn = duckdb_prepared_statement_column_name(ps, k);
        names[k] = copy_string(cn ? cn : "");
        if (cn) duckdb_free((void *)cn);
      } else {
        types[k] = duckdb_param_logical_type(ps, k + 1);
        /* A parameter whose type DuckDB could not infer is typed as SQL NULL (Arrow "n"). */
        if (!types[k]) types[k] = duckdb_create_logical_type(36);
        const char *pn = duckdb_parameter_name(ps, k + 1);
        char buf[32];
        snprintf(buf, sizeof buf, "$%llu", (unsigned long long)k + 1);
        names[k] = copy_string(pn && pn[0] ? pn : buf);
        if (pn) duckdb_free((void *)pn);
      }
    }
    duckdb_error_data e = duckdb_to_arrow_schema(opts, types, (const char **)names, cols, pass == 0 ? &j->described : &j->described_params);
    for (idx_t k = 0; k < cols; k++) {
      duckdb_destroy_logical_type(&types[k]);
      free(names[k]);
    }
    free(types);
    free(names);
    if (e && duckdb_error_data_has_error(e)) set_job_error(j, duckdb_error_data_message(e), 0);
    if (e) duckdb_destroy_error_data(&e);
  }
  if (opts) duckdb_destroy_arrow_options(&opts);
  duckdb_destroy_prepare(&ps);
  duckdb_destroy_extracted(&ex);
}

static void close_result(fg_result *r) {
  if (!r) return;
  free(r->fast);
  if (r->schema.release) r->schema.release(&r->schema);
  if (r->options) duckdb_destroy_arrow_options(&r->options);
  duckdb_destroy_result(&r->result);
  free(r);
}

static void run_fetch(fg_job *j) {
  fg_result *r = j->result;
  if (r->fast) {
    run_fetch_fast(j);
    return;
  }
  int cap = 0;
  int64_t rows = 0;
  while (!r->done && rows < j->max_rows) {
    duckdb_data_chunk chunk = NULL;
    int got = next_result_chunk(j, &chunk);
    if (got < 0) return;
    if (got == 0) break;
    struct ArrowArray arr;
    memset(&arr, 0, sizeof arr);
    duckdb_error_data e = duckdb_data_chunk_to_arrow(r->options, chunk, &arr);
    duckdb_destroy_data_chunk(&chunk);
    if (e && duckdb_error_data_has_error(e)) {
      set_job_error(j, duckdb_error_data_message(e), 0);
      duckdb_destroy_error_data(&e);
      return;
    }
    if (e) duckdb_destroy_error_data(&e);
    if (j->nbatches == cap) {
      cap = cap ? cap * 2 : 8;
      j->batches = realloc(j->batches, (size_t)cap * sizeof(fg_out_batch));
    }
    fg_out_batch *ob = &j->batches[j->nbatches];
    memset(ob, 0, sizeof *ob);
    ob->length = arr.length;
    char err[256] = {0};
    int failed = 0;
    for (int64_t k = 0; k < r->schema.n_children && !failed; k++) {
      failed = plan_array(&ob->plan, r->schema.children[k], arr.children[k], err, sizeof err);
    }
    if (!failed) {
      ob->body = body_get(j->conn->db, ob->plan.body ? (size_t)ob->plan.body : 1, &ob->cap, &ob->buffer);
      if (!ob->body) {
        failed = 1;
        snprintf(err, sizeof err, "out of memory for a result batch");
      }
    }
    if (!failed) {
      for (int64_t k = 0; k < ob->plan.nbufs; k++) {
        int64_t off = (int64_t)ob->plan.bufs[2 * k], len = (int64_t)ob->plan.bufs[2 * k + 1];
        if (len) memcpy(ob->body + off, ob->plan.src[k], (size_t)len);
        int64_t padded = (len + 7) & ~(int64_t)7;
        if (padded > len) memset(ob->body + off + len, 0, (size_t)(padded - len));
      }
    }
    if (arr.release) arr.release(&arr);
    if (failed) {
      free_plan(&ob->plan);
      if (ob->body) body_put(j->conn->db, ob->body, ob->cap, ob->buffer);
      set_job_error(j, err[0] ? err : "out of memory", 0);
      return;
    }
    j->nbatches++;
    rows += ob->length;
  }
}

static void *connection_thread(void *p) {
  fg_conn *c = p;
  for (;;) {
    pthread_mutex_lock(&c->mu);
    while (!c->head) pthread_cond_wait(&c->cv, &c->mu);
    fg_job *j = c->head;
    c->head = j->next;
    if (!c->head) c->tail = NULL;
    pthread_mutex_unlock(&c->mu);
    int quit = 0;
    if (atomic_load(&c->stopped) && (j->kind == JOB_EXECUTE || j->kind == JOB_DESCRIBE || j->kind == JOB_FETCH)) {
      set_job_error(j, "INTERRUPT Error: the query was cancelled", FG_DUCKDB_ERROR_INTERRUPT);
    } else switch (j->kind) {
      case JOB_EXECUTE:
      case JOB_DESCRIBE:
      case JOB_FETCH: {
        size_t refused_before = memory_ceiling_refusals();
        active_begin(c);
        if (j->kind == JOB_EXECUTE) run_execute(j);
        else if (j->kind == JOB_DESCRIBE) run_describe(j);
        else run_fetch(j);
        active_end(c);
        /* What a statement stopped at the ceiling freed goes back to the system, or the server
           would stay past the ceiling and refuse every statement after it. */
        if (j->error && memory_ceiling_refusals() != refused_before) memory_ceiling_trim();
        if (j->error && atomic_load(&c->ceiling_hit)) {
          set_job_error(j, "Out of Memory Error: the server reached its memory ceiling (sql.memoryCeiling) while the statement ran", FG_DUCKDB_ERROR_OUT_OF_MEMORY);
        }
        break;
      }
      case JOB_CLOSE_RESULT: close_result(j->result); j->result = NULL; break;
      case JOB_DISCONNECT: quit = 1; break;
    }
    if (quit) {
      fg_db *db = c->db;
      pthread_mutex_lock(&db->mu);
      for (fg_grant **pp = &db->grants; *pp; pp = &(*pp)->next) {
        if ((*pp)->connection_id == c->id) {
          fg_grant *g = *pp;
          *pp = g->next;
          for (int64_t i = 0; i < g->nkeys; i++) free(g->keys[i]);
          free(g->keys);
          free(g);
          break;
        }
      }
      pthread_mutex_unlock(&db->mu);
      duckdb_disconnect(&c->conn);
    }
    napi_call_threadsafe_function(c->db->completions, j, napi_tsfn_blocking);
    if (quit) break;
  }
  return NULL;
}

/* A job in flight keeps the event loop alive, as any pending I/O does; an idle database does not. */
static void submit(napi_env env, fg_conn *c, fg_job *j) {
  if (c->db->pending_jobs++ == 0) napi_ref_threadsafe_function(env, c->db->completions);
  j->conn = c;
  pthread_mutex_lock(&c->mu);
  if (c->tail) c->tail->next = j;
  else c->head = j;
  c->tail = j;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- N-API glue */

#define CHECK(env, call)                                                 \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, "FG_NATIVE", "N-API call failed: " #call);  \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { /* an embedded NUL would end the string early in C */
    free(s);
    return NULL;
  }
  return s;
}

static napi_value get_named(napi_env env, napi_value obj, const char *name) {
  napi_value v = NULL;
  napi_get_named_property(env, obj, name, &v);
  return v;
}

static void *unwrap(napi_env env, napi_value v, const char *what) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected a %s handle", what);
    napi_throw_type_error(env, "FG_NATIVE", msg);
    return NULL;
  }
  return p;
}

static napi_value make_error(napi_env env, const char *msg, duckdb_error_type type) {
  napi_value m, e, t;
  napi_create_string_utf8(env, msg ? msg : "error", NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *code = type == FG_DUCKDB_ERROR_INTERRUPT     ? "INTERRUPT"
                     : type == FG_DUCKDB_ERROR_OUT_OF_MEMORY ? "OUT_OF_MEMORY"
                                                           : "DUCKDB";
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &t);
  napi_set_named_property(env, e, "engineCode", t);
  return e;
}

/* Field descriptions are { format, name, nullable, children, metadata? } objects. */
static int schema_from_js(napi_env env, napi_value desc, struct ArrowSchema *out) {
  memset(out, 0, sizeof *out);
  out->format = get_string(env, get_named(env, desc, "format"));
  out->name = get_string(env, get_named(env, desc, "name"));
  bool nullable = true;
  napi_get_value_bool(env, get_named(env, desc, "nullable"), &nullable);
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->release = release_owned_schema;
  napi_value children = get_named(env, desc, "children");
  uint32_t n = 0;
  if (children) napi_get_array_length(env, children, &n);
  if (!out->format || !out->name) return -1;
  napi_value dict = get_named(env, desc, "dictionary");
  napi_valuetype dt = napi_undefined;
  if (dict) napi_typeof(env, dict, &dt);
  if (dt == napi_object) {
    double id = -1;
    napi_get_value_double(env, get_named(env, desc, "dictionaryId"), &id);
    out->private_data = (void *)(intptr_t)((int64_t)id + 1);
    out->dictionary = calloc(1, sizeof(struct ArrowSchema));
    if (!out->dictionary || schema_from_js(env, dict, out->dictionary) != 0) return -1;
  }
  out->n_children = n;
  out->children = calloc(n ? n : 1, sizeof(struct ArrowSchema *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value child;
    napi_get_element(env, children, i, &child);
    out->children[i] = calloc(1, sizeof(struct ArrowSchema));
    if (schema_from_js(env, child, out->children[i]) != 0) {
      out->n_children = i + 1;
      return -1;
    }
  }
  return 0;
}

static napi_value metadata_to_js(napi_env env, const char *md) {
  napi_value arr;
  napi_create_array(env, &arr);
  if (!md) return arr;
  int32_t n;
  memcpy(&n, md, 4);
  const char *p = md + 4;
  for (int32_t i = 0; i < n; i++) {
    int32_t kl, vl;
    memcpy(&kl, p, 4);
    p += 4;
    const char *k = p;
    p += kl;
    memcpy(&vl, p, 4);
    p += 4;
    const char *v = p;
    p += vl;
    napi_value pair, kv, vv;
    napi_create_array_with_length(env, 2, &pair);
    napi_create_string_utf8(env, k, (size_t)kl, &kv);
    napi_create_string_utf8(env, v, (size_t)vl, &vv);
    napi_set_element(env, pair, 0, kv);
    napi_set_element(env, pair, 1, vv);
    napi_set_element(env, arr, (uint32_t)i, pair);
  }
  return arr;
}

static napi_value schema_to_js(napi_env env, const struct ArrowSchema *s) {
  napi_value o, v, children;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, s->format, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "format", v);
  napi_create_string_utf8(env, s->name ? s->name : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "name", v);
  napi_get_boolean(env, (s->flags & ARROW_FLAG_NULLABLE) != 0, &v);
  napi_set_named_property(env, o, "nullable", v);
  napi_set_named_property(env, o, "metadata", metadata_to_js(env, s->metadata));
  napi_create_array_with_length(env, (size_t)s->n_children, &children);
  for (int64_t i = 0; i < s->n_children; i++) napi_set_element(env, children, (uint32_t)i, schema_to_js(env, s->children[i]));
  napi_set_named_property(env, o, "children", children);
  if (s->dictionary) napi_set_named_property(env, o, "dictionary", schema_to_js(env, s->dictionary));
  return o;
}


static napi_value double_array(napi_env env, const double *values, int64_t count) {
  napi_value ab, ta;
  void *data;
  napi_create_arraybuffer(env, (size_t)count * sizeof(double), &data, &ab);
  if (count) memcpy(data, values, (size_t)count * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, (size_t)count, ab, 0, &ta);
  return ta;
}

static void finalize_result(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

static void free_job(fg_job *j) {
  for (size_t i = 0; i < j->nparams; i++) free(j->params[i].bytes);
  free(j->params);
  if (j->described.release) j->described.release(&j->described);
  if (j->described_params.release) j->described_params.release(&j->described_params);
  free(j->batches);
  free(j->sql);
  free(j->error);
  free(j);
}

static napi_value fields_to_js(napi_env env, const struct ArrowSchema *root) {
  napi_value fields;
  napi_create_array_with_length(env, (size_t)root->n_children, &fields);
  for (int64_t i = 0; i < root->n_children; i++) napi_set_element(env, fields, (uint32_t)i, schema_to_js(env, root->children[i]));
  return fields;
}

static void completion_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  fg_job *j = data;
  if (!env) { /* shutting down */
    free_job(j);
    return;
  }
  napi_value cb, undef, argv[2];
  napi_get_undefined(env, &undef);
  napi_get_reference_value(env, j->callback, &cb);
  argv[0] = undef;
  argv[1] = undef;
  if (j->error) {
    argv[0] = make_error(env, j->error, j->error_type);
    if (j->out_result) close_result(j->out_result);
    for (int i = 0; i < j->nbatches; i++) {
      free_plan(&j->batches[i].plan);
      if (j->batches[i].body) body_put(j->conn->db, j->batches[i].body, j->batches[i].cap, j->batches[i].buffer);
    }
  } else if (j->kind == JOB_EXECUTE) {
    if (j->out_result) {
      napi_value o, handle;
      napi_create_object(env, &o);
      napi_create_external(env, j->out_result, finalize_result, NULL, &handle);
      napi_set_named_property(env, o, "handle", handle);
      napi_set_named_property(env, o, "fields", fields_to_js(env, &j->out_result->schema));
      napi_value whole;
      napi_get_boolean(env, j->out_result->materialized, &whole);
      napi_set_named_property(env, o, "materialized", whole);
      argv[1] = o;
    } else {
      napi_get_null(env, &argv[1]);
    }
  } else if (j->kind == JOB_DESCRIBE) {
    napi_value o;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "fields", fields_to_js(env, &j->described));
    napi_set_named_property(env, o, "parameters", fields_to_js(env, &j->described_params));
    argv[1] = o;
  } else if (j->kind == JOB_FETCH) {
    drop_orphans(env, j->conn->db);
    napi_value arr;
    napi_create_array_with_length(env, (size_t)j->nbatches, &arr);
    for (int i = 0; i < j->nbatches; i++) {
      fg_out_batch *b = &j->batches[i];
      napi_value o, v;
      napi_create_object(env, &o);
      napi_create_double(env, (double)b->length, &v);
      napi_set_named_property(env, o, "length", v);
      napi_set_named_property(env, o, "nodes", double_array(env, b->plan.nodes, 2 * b->plan.nnodes));
      napi_set_named_property(env, o, "buffers", double_array(env, b->plan.bufs, 2 * b->plan.nbufs));
      int64_t size = b->plan.body;
      napi_value token;
      if (!b->buffer && napi_create_external_buffer(env, b->cap, b->body, block_finalized, NULL, &v) == napi_ok) {
        napi_create_reference(env, v, 1, &b->buffer);
      }
      if (b->buffer) {
        napi_get_reference_value(env, b->buffer, &v);
        fg_lent_body *lent = malloc(sizeof *lent);
        *lent = (fg_lent_body){j->conn->db, b->body, b->cap, b->buffer, 0};
        napi_create_external(env, lent, lent_token_finalized, NULL, &token);
      } else {
        /* Runtimes that forbid external buffers get a copy. */
        void *copy;
        napi_create_buffer_copy(env, (size_t)size, b->body, &copy, &v);
        body_put(j->conn->db, b->body, b->cap, NULL);
        napi_get_null(env, &token);
      }
      napi_set_named_property(env, o, "body", v);
      napi_value blen;
      napi_create_double(env, (double)size, &blen);
      napi_set_named_property(env, o, "bodyLength", blen);
      napi_set_named_property(env, o, "release", token);
      napi_set_element(env, arr, (uint32_t)i, o);
      free_plan(&b->plan);
    }
    argv[1] = arr;
    if (j->result->done) {
      napi_value t;
      napi_get_boolean(env, true, &t);
      napi_set_named_property(env, arr, "done", t);
    }
  }
  fg_db *db = j->conn->db;
  if (j->kind == JOB_DISCONNECT) {
    fg_conn *c = j->conn;
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
  }
  if (--db->pending_jobs == 0) napi_unref_threadsafe_function(env, db->completions);
  napi_call_function(env, undef, cb, 2, argv, NULL);
  napi_delete_reference(env, j->callback);
  free_job(j);
}

static void scan_event_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  fg_scan_event *e = data;
  if (env && js_cb) {
    napi_value undef, argv[3];
    napi_get_undefined(env, &undef);
    napi_create_int32(env, e->kind, &argv[0]);
    napi_create_double(env, (double)e->scan_id, &argv[1]);
    if (e->key) napi_create_string_utf8(env, e->key, NAPI_AUTO_LENGTH, &argv[2]);
    else argv[2] = undef;
    napi_call_function(env, undef, js_cb, 3, argv, NULL);
  }
  free(e->key);
  free(e);
}

/* open({ threads, memoryLimit, tempDirectory, maxTempDirectorySize }, onScanEvent) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  duckdb_config config = NULL;
  duckdb_create_config(&config);
  struct { const char *js, *duck; } opts[] = {
      {"threads", "threads"},
      {"memoryLimit", "memory_limit"},
      {"tempDirectory", "temp_directory"},
      {"maxTempDirectorySize", "max_temp_directory_size"},
  };
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    napi_value v = get_named(env, argv[0], opts[i].js);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t != napi_string) continue;
    char *s = get_string(env, v);
    if (s) duckdb_set_config(config, opts[i].duck, s);
    free(s);
  }
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  duckdb_set_config(config, "allow_community_extensions", "false");
  duckdb_set_config(config, "allow_unsigned_extensions", "false");
  duckdb_set_config(config, "allow_persistent_secrets", "false");
  /* Rows come in the order of ORDER BY, or in none: scans and result collection run in
     parallel (our scan function cannot number its batches, so keeping file order would run
     every result through one thread). */
  duckdb_set_config(config, "preserve_insertion_order", "false");
  {
    napi_value v = get_named(env, argv[0], "memoryCeiling");
    double bytes = 0;
    if (napi_get_value_double(env, v, &bytes) == napi_ok && bytes > 0) {
      char err[200];
      if (memory_ceiling_install((size_t)bytes, err, sizeof err) != 0) {
        duckdb_destroy_config(&config);
        napi_throw_error(env, "FG_DUCKDB_OPEN", err);
        return NULL;
      }
    }
  }
  fg_db *db = calloc(1, sizeof *db);
  {
    napi_value v = get_named(env, argv[0], "scanCacheBytes");
    double bytes = 0;
    if (napi_get_value_double(env, v, &bytes) == napi_ok && bytes > 0) db->cache_budget = (int64_t)bytes;
    atomic_init(&db->cache_bytes, 0);
  }
  char *err = NULL;
  if (duckdb_open_ext(NULL, &db->db, config, &err) != DuckDBSuccess) {
    duckdb_destroy_config(&config);
    napi_throw_error(env, "FG_DUCKDB_OPEN", err ? err : "could not open DuckDB");
    if (err) duckdb_free(err);
    free(db);
    return NULL;
  }
  duckdb_destroy_config(&config);
  pthread_mutex_init(&db->mu, NULL);
  pthread_mutex_init(&db->pool_mu, NULL);

  duckdb_connection setup = NULL;
  duckdb_connect(db->db, &setup);
  /* Nothing in SQL reaches the file system, the network, extensions or the configuration, but
     the spill directory the engine itself writes (allowed first: DuckDB refuses to widen access
     once it is off; the caller makes that directory private and unguessable). No connection but
     this one exists yet. */
  {
    char *lockdown[4] = {NULL, "SET enable_external_access = false", "SET lock_configuration = true", NULL};
    napi_value v = get_named(env, argv[0], "spillDirectoryList");
    napi_valuetype t;
    napi_typeof(env, v, &t);
    char *list = t == napi_string ? get_string(env, v) : NULL;
    char *allow = NULL;
    if (list) {
      size_t n = strlen(list) + 40;
      allow = malloc(n);
      snprintf(allow, n, "SET allowed_directories = %s", list);
      free(list);
    }
    lockdown[0] = allow;
    for (int i = allow ? 0 : 1; lockdown[i]; i++) {
      duckdb_result r;
      if (duckdb_query(setup, lockdown[i], &r) != DuckDBSuccess) {
        char msg[512];
        snprintf(msg, sizeof msg, "could not lock the engine down (%s): %s", lockdown[i], duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        free(allow);
        duckdb_disconnect(&setup);
        duckdb_close(&db->db);
        napi_throw_error(env, "FG_DUCKDB_OPEN", msg);
        return NULL;
      }
      duckdb_destroy_result(&r);
    }
    free(allow);
  }
  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, SCAN_FUNCTION);
  duckdb_logical_type varchar = duckdb_create_logical_type(FG_DUCKDB_TYPE_VARCHAR);
  duckdb_table_function_add_parameter(tf, varchar);
  duckdb_destroy_logical_type(&varchar);
  duckdb_table_function_set_extra_info(tf, db, NULL);
  duckdb_table_function_set_bind(tf, scan_bind);
  duckdb_table_function_set_init(tf, scan_init);
  duckdb_table_function_set_local_init(tf, scan_local_init);
  duckdb_table_function_set_function(tf, scan_function);
  duckdb_table_function_supports_projection_pushdown(tf, true);
  duckdb_state st = duckdb_register_table_function(setup, tf);
  duckdb_destroy_table_function(&tf);
  give_converter(db, setup);
  if (st != DuckDBSuccess) {
    napi_throw_error(env, "FG_DUCKDB_OPEN", "could not register the scan function");
    return NULL;
  }

  napi_value name;
  napi_create_string_utf8(env, "flightgate-duckdb", NAPI_AUTO_LENGTH, &name);
  CHECK(env, napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, scan_event_js,
                                             &db->scan_events));
  CHECK(env, napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, completion_js,
                                             &db->completions));
  /* The event loop may exit while the database is open; closing releases them for good. */
  napi_unref_threadsafe_function(env, db->scan_events);
  napi_unref_threadsafe_function(env, db->completions);
  napi_value handle;
  CHECK(env, napi_create_external(env, db, NULL, NULL, &handle));
  return handle;
}

static double *copy_doubles(napi_env env, napi_value v, int64_t *count) {
  napi_typedarray_type t;
  size_t n = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &t, &n, &data, NULL, NULL) != napi_ok || t != napi_float64_array) return NULL;
  double *out = malloc(n ? n * sizeof(double) : 1);
  if (out && n) memcpy(out, data, n * sizeof(double));
  *count = (int64_t)n;
  return out;
}

/* The optional file layout: { files: string[], batches, nodes, buffers } (Float64Arrays). */
static int layout_from_js(napi_env env, napi_value v, fg_source *s, char *err, size_t errlen) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_object) return 0;
  napi_value files = get_named(env, v, "files");
  uint32_t n = 0;
  napi_get_array_length(env, files, &n);
  s->files = calloc(n ? n : 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value f;
    napi_get_element(env, files, i, &f);
    s->files[i] = get_string(env, f);
    s->nfiles++;
    if (!s->files[i]) {
      snprintf(err, errlen, "invalid file name in a layout");
      return -1;
    }
  }
  int64_t nb = 0, nn = 0, nbuf = 0;
  s->file_batches = copy_doubles(env, get_named(env, v, "batches"), &nb);
  s->file_nodes = copy_doubles(env, get_named(env, v, "nodes"), &nn);
  s->file_buffers = copy_doubles(env, get_named(env, v, "buffers"), &nbuf);
  if (!s->file_batches || !s->file_nodes || !s->file_buffers || nb % 8) {
    snprintf(err, errlen, "invalid file layout");
    return -1;
  }
  s->nfile_batches = nb / 8;
  napi_value dicts = get_named(env, v, "dictionaries");
  napi_valuetype dt = napi_undefined;
  if (dicts) napi_typeof(env, dicts, &dt);
  if (dt == napi_object) {
    int64_t nd = 0;
    s->file_dicts = copy_doubles(env, dicts, &nd);
    if (!s->file_dicts || nd % 9) {
      snprintf(err, errlen, "invalid dictionary layout");
      return -1;
    }
    s->nfile_dicts = nd / 9;
    for (int64_t i = 0; i < s->nfile_dicts; i++) {
      const double *d = s->file_dicts + 9 * i;
      if (d[0] < 0 || d[0] >= n || d[2] < 0 || d[3] < 0 || d[5] < 0 || d[5] + d[6] > nn / 2 || d[7] < 0 || d[7] + d[8] > nbuf / 2) {
        snprintf(err, errlen, "invalid dictionary layout entry");
        return -1;
      }
    }
  }
  for (int64_t i = 0; i < s->nfile_batches; i++) {
    const double *b = s->file_batches + 8 * i;
    if (b[0] < 0 || b[0] >= n || b[1] < 0 || b[2] < 0 || b[4] < 0 || b[4] + b[5] > nn / 2 || b[6] < 0 || b[6] + b[7] > nbuf / 2) {
      snprintf(err, errlen, "invalid file layout entry");
      return -1;
    }
  }
  return 0;
}

/* registerSource(db, key, rootField, rows, layout?) */
static napi_value js_register_source(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  if (!db) return NULL;
  fg_source *s = calloc(1, sizeof *s);
  atomic_init(&s->refs, 1);
  s->key = get_string(env, argv[1]);
  double rows = -1;
  napi_get_value_double(env, argv[3], &rows);
  s->rows = (int64_t)rows;
  char err[256] = "invalid schema description";
  if (!s->key || schema_from_js(env, argv[2], &s->schema) != 0) goto fail;
  if (argc > 4 && layout_from_js(env, argv[4], s, err, sizeof err) != 0) goto fail;
  s->ncols = s->schema.n_children;
  s->fields = calloc((size_t)(s->ncols ? s->ncols : 1), sizeof(fg_field));
  s->converted = calloc((size_t)(s->ncols ? s->ncols : 1), sizeof(duckdb_arrow_converted_schema));
  s->types = calloc((size_t)(s->ncols ? s->ncols : 1), sizeof(duckdb_logical_type));
  duckdb_connection conv = take_converter(db);
  for (int64_t i = 0; i < s->ncols; i++) {
    if (build_field(s->schema.children[i], &s->fields[i], err, sizeof err) != 0) {
      give_converter(db, conv);
      goto fail;
    }
    struct ArrowSchema root;
    struct ArrowSchema *kids[1] = {s->schema.children[i]};
    memset(&root, 0, sizeof root);
    root.format = "+s";
    root.name = "";
    root.n_children = 1;
    root.children = kids;
    root.release = release_nothing_schema;
    duckdb_error_data e = duckdb_schema_from_arrow(conv, &root, &s->converted[i]);
    if (e && duckdb_error_data_has_error(e)) {
      snprintf(err, sizeof err, "column \"%s\": %s", s->schema.children[i]->name, duckdb_error_data_message(e));
      duckdb_destroy_error_data(&e);
      give_converter(db, conv);
      goto fail;
    }
    if (e) duckdb_destroy_error_data(&e);
    /* DuckDB's type for the column: convert an empty array and look. */
    fg_window *w = calloc(1, sizeof *w);
    struct ArrowArray *col = empty_array(&s->fields[i]);
    w->column = *col;
    free(col);
    struct ArrowArray *r = window_root(w, 0);
    r->release = release_empty_root;
    duckdb_data_chunk chunk = NULL;
    e = duckdb_data_chunk_from_arrow(conv, r, s->converted[i], &chunk);
    if (r->release) r->release(r);
    free(r);
    if ((e && duckdb_error_data_has_error(e)) || !chunk) {
      snprintf(err, sizeof err, "column \"%s\": %s", s->schema.children[i]->name,
               e ? duckdb_error_data_message(e) : "not convertible");
      if (e) duckdb_destroy_error_data(&e);
      give_converter(db, conv);
      goto fail;
    }
    if (e) duckdb_destroy_error_data(&e);
    s->types[i] = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, 0));
    duckdb_destroy_data_chunk(&chunk);
  }
  give_converter(db, conv);
  s->db = db;
  if (s->nfiles && s->nfile_batches > 0 && s->ncols > 0 && db->cache_budget > 0) {
    s->cache = calloc((size_t)(s->nfile_batches * s->ncols), sizeof *s->cache);
    s->win_base = calloc((size_t)s->nfile_batches + 1, sizeof *s->win_base);
    int64_t cap = (int64_t)duckdb_vector_size();
    for (int64_t i = 0; s->win_base && i < s->nfile_batches; i++) {
      s->win_base[i + 1] = s->win_base[i] + ((int64_t)s->file_batches[8 * i + 3] + cap - 1) / cap;
    }
    if (s->win_base) s->vcache = calloc((size_t)(s->win_base[s->nfile_batches] * s->ncols + 1), sizeof *s->vcache);
    pthread_rwlock_init(&s->cache_lock, NULL);
    atomic_init(&s->cached_bytes, 0);
    atomic_init(&s->last_used, now_ms());
  }
  pthread_mutex_lock(&db->mu);
  for (fg_source **pp = &db->sources; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->key, s->key) == 0) {
      fg_source *old = *pp;
      *pp = old->next;
      source_unref(old);
      break;
    }
  }
  s->next = db->sources;
  db->sources = s;
  pthread_mutex_unlock(&db->mu);
  return NULL;
fail:
  source_unref(s);
  napi_throw_error(env, "FG_SQL_SOURCE", err);
  return NULL;
}

static napi_value js_drop_source(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  char *key = db ? get_string(env, argv[1]) : NULL;
  if (!key) return NULL;
  pthread_mutex_lock(&db->mu);
  for (fg_source **pp = &db->sources; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->key, key) == 0) {
      fg_source *old = *pp;
      *pp = old->next;
      source_unref(old);
      break;
    }
  }
  pthread_mutex_unlock(&db->mu);
  free(key);
  return NULL;
}

static fg_scan *find_scan(fg_db *db, uint64_t id) {
  for (fg_scan *s = db->scans; s; s = s->next) {
    if (s->id == id) return s;
  }
  return NULL;
}

/* A streamed scan's dictionary `id`: the last one pushed for it. */
static fg_batch *feed_dictionary(void *ctx, int64_t id, char *err, size_t errlen) {
  fg_scan *s = ctx;
  for (int i = 0; i < s->nfeed_dicts; i++) {
    if (s->feed_dicts[i].id == id) {
      atomic_fetch_add(&s->feed_dicts[i].batch->refs, 1);
      return s->feed_dicts[i].batch;
    }
  }
  snprintf(err, errlen, "a record batch came before the dictionary it uses (corrupt stream)");
  return NULL;
}

/* The field of the dictionary values for id `id`. */
static const fg_field *dictionary_field(const fg_source *src, int64_t id) {
  for (int64_t k = 0; k < src->ncols; k++) {
    if (src->fields[k].dict && src->fields[k].dict_id == id) return src->fields[k].dict;
  }
  return NULL;
}

/* scanPush(db, scanId, length, nodes: Float64Array, buffers: Float64Array, body: Uint8Array)
   → 0 accepted, 1 accepted and now full (wait for a drain event), 2 the scan is gone. */
static napi_value js_scan_push(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], out;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  if (!db) return NULL;
  double id, length;
  napi_get_value_double(env, argv[1], &id);
  napi_get_value_double(env, argv[2], &length);
  napi_typedarray_type t;
  size_t nn, nb, blen;
  void *nodes, *bufs, *body;
  CHECK(env, napi_get_typedarray_info(env, argv[3], &t, &nn, &nodes, NULL, NULL));
  CHECK(env, napi_get_typedarray_info(env, argv[4], &t, &nb, &bufs, NULL, NULL));
  CHECK(env, napi_get_typedarray_info(env, argv[5], &t, &blen, &body, NULL, NULL));
  double dict_id = -1;
  if (argc > 6) {
    napi_valuetype dt;
    napi_typeof(env, argv[6], &dt);
    if (dt == napi_number) napi_get_value_double(env, argv[6], &dict_id);
  }
  int status = 2;
  pthread_mutex_lock(&db->mu);
  fg_scan *s = find_scan(db, (uint64_t)id);
  if (s && dict_id >= 0) {
    /* A dictionary batch: it replaces the one in effect for its id. */
    const fg_field *field = dictionary_field(s->source, (int64_t)dict_id);
    fg_batch *d = calloc(1, sizeof *d);
    atomic_init(&d->refs, 1);
    d->length = (int64_t)length;
    d->body = body_alloc(blen);
    if (blen && d->body) memcpy(d->body, body, blen);
    d->ncols = 1;
    d->columns = calloc(1, sizeof(struct ArrowArray *));
    char err[160] = "no column uses this dictionary";
    ipc_cursor c = {nodes, (int64_t)nn / 2, 0, bufs, (int64_t)nb / 2, 0, d->body, (int64_t)blen, NULL, NULL, d, 0};
    if (!d->body) snprintf(err, sizeof err, "out of memory for a dictionary (sql.memoryCeiling)");
    else if (field) d->columns[0] = lay_out(field, &c, err, sizeof err);
    int slot = -1;
    for (int i = 0; i < s->nfeed_dicts; i++) {
      if (s->feed_dicts[i].id == (int64_t)dict_id) slot = i;
    }
    if (slot < 0 && s->nfeed_dicts < (int)(sizeof s->feed_dicts / sizeof s->feed_dicts[0])) slot = s->nfeed_dicts++, s->feed_dicts[slot].batch = NULL;
    if (!d->columns[0] || slot < 0) {
      pthread_mutex_lock(&s->mu);
      if (!s->error) s->error = copy_string(slot < 0 ? "more than 16 dictionaries in one table" : err);
      pthread_cond_broadcast(&s->cv);
      pthread_mutex_unlock(&s->mu);
      batch_unref(d);
      status = 2;
    } else {
      batch_unref(s->feed_dicts[slot].batch);
      s->feed_dicts[slot].id = (int64_t)dict_id;
      s->feed_dicts[slot].batch = d;
      status = 0;
    }
  } else if (s) {
    fg_batch *b = calloc(1, sizeof *b);
    atomic_init(&b->refs, 1);
    b->length = (int64_t)length;
    b->body = body_alloc(blen);
    if (blen && b->body) memcpy(b->body, body, blen);
    b->ncols = s->source->ncols;
    b->columns = calloc((size_t)(b->ncols ? b->ncols : 1), sizeof(struct ArrowArray *));
    ipc_cursor c = {nodes, (int64_t)nn / 2, 0, bufs, (int64_t)nb / 2, 0, b->body, (int64_t)blen, feed_dictionary, s, b, 0};
    char err[160] = {0};
    int bad = 0;
    if (!b->body) {
      snprintf(err, sizeof err, "out of memory for a record batch (sql.memoryCeiling)");
      bad = 1;
    }
    for (int64_t i = 0; i < b->ncols && !bad; i++) {
      b->columns[i] = lay_out(&s->source->fields[i], &c, err, sizeof err);
      if (!b->columns[i]) bad = 1;
      else if (b->columns[i]->length != b->length) {
        snprintf(err, sizeof err, "a column's length differs from its record batch's");
        bad = 1;
      }
    }
    pthread_mutex_lock(&s->mu);
    if (bad) {
      if (!s->error) s->error = copy_string(err[0] ? err : "invalid record batch");
      batch_unref(b);
      status = 2;
    } else {
      if (s->tail) s->tail->next = b;
      else s->head = b;
      s->tail = b;
      s->queued++;
      status = 0;
      if (s->queued >= MAX_QUEUED_BATCHES) {
        s->full_signalled = 1;
        status = 1;
      }
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_unlock(&db->mu);
  napi_create_int32(env, status, &out);
  return out;
}

/* scanEnd(db, scanId, errorMessage?) */
static napi_value js_scan_end(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  if (!db) return NULL;
  double id;
  napi_get_value_double(env, argv[1], &id);
  napi_valuetype t = napi_undefined;
  if (argc > 2) napi_typeof(env, argv[2], &t);
  char *msg = t == napi_string ? get_string(env, argv[2]) : NULL;
  pthread_mutex_lock(&db->mu);
  fg_scan *s = find_scan(db, (uint64_t)id);
  if (s) {
    pthread_mutex_lock(&s->mu);
    if (msg && !s->error) {
      s->error = msg;
      msg = NULL;
    }
    s->finished = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_unlock(&db->mu);
  free(msg);
  return NULL;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  if (!db) return NULL;
  fg_conn *c = calloc(1, sizeof *c);
  c->db = db;
  if (duckdb_connect(db->db, &c->conn) != DuckDBSuccess) {
    free(c);
    napi_throw_error(env, "FG_DUCKDB", "could not open a DuckDB connection");
    return NULL;
  }
  duckdb_client_context ctx = NULL;
  duckdb_connection_get_client_context(c->conn, &ctx);
  c->id = duckdb_client_context_get_connection_id(ctx);
  duckdb_destroy_client_context(&ctx);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  pthread_create(&c->thread, NULL, connection_thread, c);
  napi_value handle;
  CHECK(env, napi_create_external(env, c, NULL, NULL, &handle));
  return handle;
}

/* grant(conn, keys: string[]): the sources this connection's statements may scan. */
static napi_value js_grant(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  if (!c) return NULL;
  uint32_t n = 0;
  CHECK(env, napi_get_array_length(env, argv[1], &n));
  fg_grant *g = calloc(1, sizeof *g);
  g->connection_id = c->id;
  g->keys = calloc(n ? n : 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, argv[1], i, &v);
    g->keys[i] = get_string(env, v);
    if (g->keys[i]) g->nkeys++;
  }
  pthread_mutex_lock(&c->db->mu);
  for (fg_grant **pp = &c->db->grants; *pp; pp = &(*pp)->next) {
    if ((*pp)->connection_id == c->id) {
      fg_grant *old = *pp;
      *pp = old->next;
      for (int64_t i = 0; i < old->nkeys; i++) free(old->keys[i]);
      free(old->keys);
      free(old);
      break;
    }
  }
  g->next = c->db->grants;
  c->db->grants = g;
  pthread_mutex_unlock(&c->db->mu);
  return NULL;
}

static fg_job *new_job(napi_env env, int kind, napi_value cb) {
  fg_job *j = calloc(1, sizeof *j);
  j->kind = kind;
  napi_create_reference(env, cb, 1, &j->callback);
  return j;
}

/* Parameters: null, boolean, number, bigint, string or Uint8Array values. */
static int params_from_js(napi_env env, napi_value arr, fg_job *j) {
  napi_valuetype at;
  napi_typeof(env, arr, &at);
  if (at == napi_undefined || at == napi_null) return 0;
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return -1;
  j->params = calloc(n ? n : 1, sizeof(fg_param));
  j->nparams = n;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_valuetype t;
    napi_get_element(env, arr, i, &v);
    napi_typeof(env, v, &t);
    fg_param *p = &j->params[i];
    bool is_typed = false;
    napi_is_typedarray(env, v, &is_typed);
    if (t == napi_null || t == napi_undefined) p->kind = PARAM_NULL;
    else if (t == napi_boolean) {
      bool b;
      napi_get_value_bool(env, v, &b);
      p->kind = PARAM_BOOL;
      p->i64 = b;
    } else if (t == napi_number) {
      double d;
      napi_get_value_double(env, v, &d);
      p->kind = PARAM_DOUBLE;
      p->f64 = d;
    } else if (t == napi_bigint) {
      bool lossless = false;
      napi_get_value_bigint_int64(env, v, &p->i64, &lossless);
      if (!lossless) return -1;
      p->kind = PARAM_INT64;
    } else if (t == napi_string) {
      size_t len = 0;
      napi_get_value_string_utf8(env, v, NULL, 0, &len);
      p->bytes = malloc(len + 1);
      napi_get_value_string_utf8(env, v, p->bytes, len + 1, &p->len);
      p->kind = PARAM_TEXT;
    } else if (is_typed) {
      napi_typedarray_type tt;
      size_t len;
      void *data;
      napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL);
      if (tt != napi_uint8_array) return -1;
      p->bytes = malloc(len ? len : 1);
      if (len) memcpy(p->bytes, data, len);
      p->len = len;
      p->kind = PARAM_BLOB;
    } else {
      return -1;
    }
  }
  return 0;
}

static napi_value submit_statement(napi_env env, napi_callback_info info, int kind) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  if (!c) return NULL;
  char *sql = get_string(env, argv[1]);
  if (!sql) {
    napi_throw_type_error(env, "FG_NATIVE", "the statement must be a string without NUL characters");
    return NULL;
  }
  bool internal = false;
  napi_get_value_bool(env, argv[2], &internal);
  fg_job *j = new_job(env, kind, argv[argc - 1]);
  j->sql = sql;
  j->internal = internal;
  if (kind == JOB_EXECUTE && argc == 6) {
    double budget = 0;
    if (napi_get_value_double(env, argv[4], &budget) == napi_ok && budget > 0) j->materialize_budget = budget;
  }
  if (kind == JOB_EXECUTE && argc == 6 && params_from_js(env, argv[3], j) != 0) {
    napi_delete_reference(env, j->callback);
    free_job(j);
    napi_throw_type_error(env, "FG_NATIVE", "parameters must be null, boolean, number, 64-bit bigint, string or Uint8Array");
    return NULL;
  }
  submit(env, c, j);
  return NULL;
}

/* execute(conn, sql, internal, params, materializeBudget, callback(err, { handle, fields } | null)):
   a budget (bytes) computes the whole result before the callback, on all threads, unless the
   process grows past it meanwhile; then, as with 0, the result streams, computed as fetched. */
static napi_value js_execute(napi_env env, napi_callback_info info) { return submit_statement(env, info, JOB_EXECUTE); }

/* describe(conn, sql, internal, callback(err, { fields, parameters })) */
static napi_value js_describe(napi_env env, napi_callback_info info) { return submit_statement(env, info, JOB_DESCRIBE); }

/* fetch(conn, result, maxRows, callback(err, batches)) — batches.done once the result ends */
static napi_value js_fetch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  fg_result *r = c ? unwrap(env, argv[1], "result") : NULL;
  if (!r) return NULL;
  double max_rows = 65536;
  napi_get_value_double(env, argv[2], &max_rows);
  fg_job *j = new_job(env, JOB_FETCH, argv[3]);
  j->result = r;
  j->max_rows = (int64_t)max_rows;
  submit(env, c, j);
  return NULL;
}

static napi_value js_close_result(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  fg_result *r = c ? unwrap(env, argv[1], "result") : NULL;
  if (!r) return NULL;
  fg_job *j = new_job(env, JOB_CLOSE_RESULT, argv[2]);
  j->result = r;
  submit(env, c, j);
  return NULL;
}

/* interrupt(conn): stops the running statement, including scans waiting for data. */
static napi_value js_interrupt(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  if (!c) return NULL;
  atomic_store(&c->stopped, 1);
  duckdb_interrupt(c->conn);
  pthread_mutex_lock(&c->db->mu);
  for (fg_scan *s = c->db->scans; s; s = s->next) {
    if (s->connection_id != c->id) continue;
    pthread_mutex_lock(&s->mu);
    s->cancelled = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_unlock(&c->db->mu);
  return NULL;
}

static napi_value js_disconnect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_conn *c = unwrap(env, argv[0], "connection");
  if (!c) return NULL;
  fg_job *j = new_job(env, JOB_DISCONNECT, argv[1]);
  submit(env, c, j);
  return NULL;
}

/* releaseBody(token): the body was sent; its memory goes back to the pool. */
static napi_value js_release_body(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_lent_body *b = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&b) != napi_ok || !b) return NULL;
  if (!b->returned) {
    b->returned = 1;
    body_put(b->db, b->mem, b->cap, b->buffer);
    drop_orphans(env, b->db);
  }
  return NULL;
}

static napi_value js_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_string_utf8(env, duckdb_library_version(), NAPI_AUTO_LENGTH, &v);
  return v;
}

/* scanCacheBytes(db): bytes of file columns the scan cache holds now. */
static napi_value js_scan_cache_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fg_db *db = unwrap(env, argv[0], "database");
  if (!db) return NULL;
  napi_value v;
  napi_create_double(env, (double)atomic_load(&db->cache_bytes), &v);
  return v;
}

/* memoryStats(): what the memory ceiling sees, in bytes. */
static napi_value js_memory_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, (double)memory_ceiling_mapped(), &v);
  napi_set_named_property(env, o, "mapped", v);
  napi_create_double(env, (double)memory_ceiling_bytes(), &v);
  napi_set_named_property(env, o, "ceiling", v);
  napi_create_double(env, (double)memory_ceiling_refusals(), &v);
  napi_set_named_property(env, o, "refusals", v);
  return o;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"registerSource", NULL, js_register_source, NULL, NULL, NULL, napi_default, NULL},
      {"dropSource", NULL, js_drop_source, NULL, NULL, NULL, napi_default, NULL},
      {"scanPush", NULL, js_scan_push, NULL, NULL, NULL, napi_default, NULL},
      {"scanEnd", NULL, js_scan_end, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"grant", NULL, js_grant, NULL, NULL, NULL, napi_default, NULL},
      {"execute", NULL, js_execute, NULL, NULL, NULL, napi_default, NULL},
      {"describe", NULL, js_describe, NULL, NULL, NULL, napi_default, NULL},
      {"fetch", NULL, js_fetch, NULL, NULL, NULL, napi_default, NULL},
      {"closeResult", NULL, js_close_result, NULL, NULL, NULL, napi_default, NULL},
      {"interrupt", NULL, js_interrupt, NULL, NULL, NULL, napi_default, NULL},
      {"disconnect", NULL, js_disconnect, NULL, NULL, NULL, napi_default, NULL},
      {"version", NULL, js_version, NULL, NULL, NULL, napi_default, NULL},
      {"memoryStats", NULL, js_memory_stats, NULL, NULL, NULL, napi_default, NULL},
      {"scanCacheBytes", NULL, js_scan_cache_bytes, NULL, NULL, NULL, napi_default, NULL},
      {"releaseBody", NULL, js_release_body, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
