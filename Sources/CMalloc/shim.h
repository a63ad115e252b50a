#ifndef TALLY_CMALLOC_SHIM_H
#define TALLY_CMALLOC_SHIM_H
/* glibc's allocator controls and statistics (malloc.h), which Swift's Glibc module leaves out. */
#include <malloc.h>
#endif
