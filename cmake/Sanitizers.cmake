# Sanitizers go on compile *and* link flags of everything (libuv's lesson).
if(SC_SANITIZE)
  set(_sc_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options(${_sc_san})
  add_link_options(${_sc_san})
endif()
