/* Recorded and hostile DPS / hub bodies shared by the protocol unit tests. */
#ifndef CP_TEST_SDK_PROTOCOL_FIXTURES_H
#define CP_TEST_SDK_PROTOCOL_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A syntactically valid base64 element standing in for a certificate DER. */
#define B64_A "MIIBszCCATqgAwIBAgIUQ2VydHBpbG90"
#define B64_B "MIIBrzCCATSgAwIBAgIUSXNzdWluZ0NB"
#define B64_C "MIIBqTCCAS+gAwIBAgIUUm9vdENBcm9v"

/* 202 as DPS sends it to a register (protocol.md §1). */
#define BODY_202_ASSIGNING \
  "{\"operationId\":\"4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f\"," \
  "\"status\":\"assigning\"}"

/* 200 assigned with a three-element chain. */
#define BODY_200_ASSIGNED \
  "{\"operationId\":\"4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f\"," \
  "\"status\":\"assigned\",\"registrationState\":{\"registrationId\":\"dev-1\"," \
  "\"createdDateTimeUtc\":\"2026-11-24T01:00:00Z\",\"assignedHub\":\"hub.example.net\"," \
  "\"deviceId\":\"dev-1\",\"status\":\"assigned\",\"substatus\":\"initialAssignment\"," \
  "\"etag\":\"IjAwMDAi\",\"lastUpdatedDateTimeUtc\":\"2026-11-24T01:00:01Z\"," \
  "\"issuedCertificateChain\":[\"" B64_A "\",\"" B64_B "\",\"" B64_C "\"]}}"

/* 200 failed: policy rejected the CSR (protocol.md §13.5). */
#define BODY_200_FAILED \
  "{\"operationId\":\"op-2\",\"status\":\"failed\",\"registrationState\":{" \
  "\"registrationId\":\"dev-1\",\"status\":\"failed\",\"errorCode\":400037," \
  "\"errorMessage\":\"CSR key is not EC P-384\"}}"

#define BODY_200_DISABLED \
  "{\"operationId\":\"op-3\",\"status\":\"disabled\",\"registrationState\":{" \
  "\"registrationId\":\"dev-1\",\"status\":\"disabled\"}}"

#define BODY_401 \
  "{\"errorCode\":401002,\"trackingId\":\"7d3b\",\"message\":\"Invalid certificate.\"," \
  "\"timestampUtc\":\"2026-11-24T01:00:00Z\"}"

static inline size_t fx_len(const char *s)
{
  size_t n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

#endif
