#ifndef CFUTEX_H
#define CFUTEX_H

#include <stdint.h>
#include <time.h>

// Linux futex calls for the group-commit writers' wait slots (Sources/OsmanthusStorage/DB/Parker.swift).
// Swift cannot call the variadic syscall(2) itself.

// Sleeps while *word == expected, until woken or the absolute CLOCK_MONOTONIC `deadline`
// (NULL: no deadline). Returns 1 on time-out, 0 otherwise (woken, *word changed, or a signal):
// the caller re-checks its state either way.
int osm_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline);

// Wakes one thread sleeping on `word`.
void osm_futex_wake_one(uint32_t *word);

#endif
