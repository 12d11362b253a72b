#include "cfutex.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

int osm_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline) {
    // FUTEX_WAIT_BITSET takes an absolute deadline, on CLOCK_MONOTONIC unless
    // FUTEX_CLOCK_REALTIME is given.
    long r = syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, expected, deadline, NULL,
                     FUTEX_BITSET_MATCH_ANY);
    return (r == -1 && errno == ETIMEDOUT) ? 1 : 0;
}

void osm_futex_wake_one(uint32_t *word) {
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
