# Warnings as a module (curl's PickyWarnings in spirit): one function per target.
function(sc_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-align -Wwrite-strings -Wvla -Wformat=2)
  if(SC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
