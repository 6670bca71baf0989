# sc_embed_web(<out-var> FILES <name>...): the files of web/ as C arrays in a
# generated source (cmake/embed.cmake), regenerated whenever one changes.
# <out-var> gets the generated file's path, to add to a target's sources.
function(sc_embed_web out_var)
  cmake_parse_arguments(PARSE_ARGV 1 _e "" "" "FILES")
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/web_assets.c")
  set(_deps "")
  foreach(_f IN LISTS _e_FILES)
    list(APPEND _deps "${PROJECT_SOURCE_DIR}/web/${_f}")
  endforeach()
  list(JOIN _e_FILES "," _files)
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND ${CMAKE_COMMAND} "-DOUT=${_out}" "-DBASE=${PROJECT_SOURCE_DIR}/web"
            "-DFILES=${_files}" -P "${PROJECT_SOURCE_DIR}/cmake/embed.cmake"
    DEPENDS ${_deps} "${PROJECT_SOURCE_DIR}/cmake/embed.cmake"
    COMMENT "Embedding web/ into the binary"
    VERBATIM)
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()
