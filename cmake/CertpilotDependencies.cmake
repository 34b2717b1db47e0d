# Dependencies come from Debian 12 packages (see scripts/deps.sh).
find_package(PkgConfig REQUIRED)
# OpenSSL first: Paho's CMake package needs it, and OpenSSL must be linked
# before wolfSSL (wolfSSL exports a few OpenSSL-named symbols).
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET wolfssl)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
find_package(CURL REQUIRED)
find_package(eclipse-paho-mqtt-c REQUIRED)
if(CERTPILOT_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
if(CERTPILOT_WITH_TPM)
  pkg_check_modules(TSS2 REQUIRED IMPORTED_TARGET tss2-esys tss2-mu tss2-tctildr tss2-rc)
endif()
