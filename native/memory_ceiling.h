/* A hard ceiling on the memory DuckDB maps (see memory_ceiling.c). */
#ifndef FLIGHTGATE_MEMORY_CEILING_H
#define FLIGHTGATE_MEMORY_CEILING_H

#include <stddef.h>

/* Wraps every jemalloc arena's extent hooks (once) and raises the ceiling to `bytes` if it is
   higher than the one in force; 0, or -1 with a message in err. */
int memory_ceiling_install(size_t bytes, char *err, size_t errlen);
/* Whether the process is past the ceiling now (statements growing by small steps are then
   interrupted: see the binding's watcher). */
int memory_ceiling_exceeded(void);
void memory_ceiling_note_refusal(void);
/* Gives the C library's free memory back to the system (after a statement met the ceiling). */
void memory_ceiling_trim(void);
/* The process's resident bytes now. */
size_t memory_ceiling_resident(void);
/* Bytes jemalloc holds mapped, the ceiling, and how many mappings were refused so far. */
size_t memory_ceiling_mapped(void);
size_t memory_ceiling_bytes(void);
size_t memory_ceiling_refusals(void);

#endif
