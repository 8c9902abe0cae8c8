# Writes OUTPUT with the code version of the tree at SOURCE_DIR, at build
# time (run by the biofed_code_version target on every build): "VERSION-<git
# describe>", with "+dirty" when tracked files differ from the commit. The
# file is rewritten only when the version changes, so an unchanged tree
# rebuilds nothing.
execute_process(COMMAND git describe --always --dirty=+dirty WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR NOT described)
  set(described "unknown")
endif()
set(content "#define BIOFED_CODE_VERSION \"${VERSION}-${described}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
