# Sources of the SDK core, for firmware builds that do not use our CMake:
# compile these with sdk/include and sdk/src on the include path, plus
# wolfSSL and cJSON, and one port from platform/.
file(GLOB CERTPILOT_SDK_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/src/*.c)
set(CERTPILOT_SDK_INCLUDE_DIRS ${CMAKE_CURRENT_LIST_DIR}/include ${CMAKE_CURRENT_LIST_DIR}/src)
