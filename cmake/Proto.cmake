# sc_protobuf_generate(<out-var> <file.proto>...): runs protoc-c into the build
# tree; generated *.pb-c.[ch] never enter the source tree.
function(sc_protobuf_generate out_var)
  set(_srcs)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/proto)
  foreach(_proto ${ARGN})
    get_filename_component(_abs ${_proto} ABSOLUTE)
    get_filename_component(_dir ${_abs} DIRECTORY)
    get_filename_component(_name ${_proto} NAME_WE)
    set(_c ${CMAKE_CURRENT_BINARY_DIR}/proto/${_name}.pb-c.c)
    set(_h ${CMAKE_CURRENT_BINARY_DIR}/proto/${_name}.pb-c.h)
    add_custom_command(
      OUTPUT ${_c} ${_h}
      COMMAND ${PROTOC_C} --c_out=${CMAKE_CURRENT_BINARY_DIR}/proto -I${_dir} ${_abs}
      DEPENDS ${_abs}
      COMMENT "protoc-c ${_proto}")
    list(APPEND _srcs ${_c})
  endforeach()
  set(${out_var} ${_srcs} PARENT_SCOPE)
endfunction()
