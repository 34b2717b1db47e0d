#include "certpilot/cp_result.h"

const char *cp_result_str(cp_result r)
{
  switch (r) {
  case CP_OK: return "success";
  case CP_ERR_INVALID_ARG: return "invalid argument";
  case CP_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
  case CP_ERR_PARSE: return "malformed input";
  case CP_ERR_UNSUPPORTED_KEY: return "unsupported key (EC P-384 required)";
  case CP_ERR_CRYPTO: return "cryptographic operation failed";
  case CP_ERR_NO_MEMORY: return "out of memory";
  case CP_ERR_BAD_REGISTRATION_ID: return "invalid registration id";
  case CP_ERR_CERT_EXPIRED: return "certificate expired";
  case CP_ERR_CERT_NOT_YET_VALID: return "certificate not yet valid";
  case CP_ERR_BAD_SIGNATURE: return "signature does not verify";
  case CP_ERR_UNTRUSTED: return "chain does not lead to the trust anchor";
  case CP_ERR_KEY_MISMATCH: return "certificate does not match the private key";
  case CP_ERR_NAME_MISMATCH: return "name mismatch";
  case CP_ERR_CHAIN_INVALID: return "invalid certificate chain";
  case CP_ERR_IO: return "I/O error";
  case CP_ERR_TIMEOUT: return "timed out";
  case CP_ERR_TRANSPORT: return "transport failure";
  case CP_ERR_TLS: return "TLS failure";
  case CP_ERR_REFUSED: return "refused by server";
  case CP_ERR_BAD_RESPONSE: return "bad response from server";
  case CP_ERR_NOT_FOUND: return "not found";
  case CP_ERR_DISABLED: return "disabled";
  case CP_ERR_UNAUTHORIZED: return "unauthorized";
  case CP_ERR_STATE: return "operation not valid in this state";
  case CP_ERR_UNSUPPORTED: return "not supported";
  case CP_ERR_TPM: return "TPM failure";
  case CP_ERR_CONFIG: return "invalid configuration";
  }
  return "unknown error";
}
