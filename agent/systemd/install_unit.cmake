# Run at install time (install(CODE) in agent/CMakeLists.txt): makes
# certpilotd.service for the prefix being installed to, which
# `cmake --install --prefix` may change after configuration.
# In: CPA_UNIT_IN, CPA_UNIT_OUT, CPA_BINDIR, CPA_DOCDIR (relative or absolute).
foreach(_cpa_dir BINDIR DOCDIR)
  set(_cpa_path "${CPA_${_cpa_dir}}")
  if(NOT IS_ABSOLUTE "${_cpa_path}")
    set(_cpa_path "${CMAKE_INSTALL_PREFIX}/${_cpa_path}")
  endif()
  set(CMAKE_INSTALL_FULL_${_cpa_dir} "${_cpa_path}")
endforeach()
configure_file("${CPA_UNIT_IN}" "${CPA_UNIT_OUT}" @ONLY)
