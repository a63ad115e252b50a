#ifndef TALLY_CPREFETCH_H
#define TALLY_CPREFETCH_H

/// Asks the CPU to bring the cache line holding `address` close, for a write
/// soon. A hint only: it never faults, whatever the address.
static inline void tally_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
