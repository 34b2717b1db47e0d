/* The libFuzzer entry point every target here defines. */
#ifndef CERTPILOT_FUZZ_H
#define CERTPILOT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
