#ifndef TALLY_CSNAPPY_SHIM_H
#define TALLY_CSNAPPY_SHIM_H
/* Snappy's C API, from the system's libsnappy (libsnappy-dev): the block
   format Loki's protobuf pushes are compressed with. */
#include <snappy-c.h>
#endif
