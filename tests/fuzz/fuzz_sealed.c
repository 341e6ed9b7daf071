/* fuzz_sealed.c - fuzz_bytecode.c with the header resealed after each
 * mutation, so mutated valid programs get past the checksum. */
#define FUZZ_RESEAL 1
#include "fuzz_bytecode.c"
