# Install rules: headers, libraries, pkg-config file and CMake package config.
include(CMakePackageConfigHelpers)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/include/certpilot
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The POSIX port's API (blocking provisioning, hub client, transports, TPM).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/platform/posix/include/certpilot
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(_cp_install_targets certpilot)
if(TARGET certpilot_platform_posix)
  list(APPEND _cp_install_targets certpilot_platform_posix)
endif()
install(TARGETS ${_cp_install_targets}
        EXPORT certpilotTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT certpilotTargets NAMESPACE certpilot::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/certpilot)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/certpilotConfig.cmake.in
        ${PROJECT_BINARY_DIR}/certpilotConfig.cmake
        INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/certpilot)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/certpilotConfigVersion.cmake
        COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/certpilotConfig.cmake
              ${PROJECT_BINARY_DIR}/certpilotConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/certpilot)
configure_file(${PROJECT_SOURCE_DIR}/cmake/certpilot.pc.in
               ${PROJECT_BINARY_DIR}/certpilot.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/certpilot-posix.pc.in
               ${PROJECT_BINARY_DIR}/certpilot-posix.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/certpilot.pc ${PROJECT_BINARY_DIR}/certpilot-posix.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
