# Which folder may include which (docs/architecture.md, "The adapter protocol"):
# the Socket.IO layer, Engine.IO, util and the public headers know nothing of
# the cluster; socketio/server.cpp alone wires it in (it installs the cluster
# adapter factory and the cluster actor's callbacks).
# Run: cmake -DSRC=<repo>/libsio-actor -P tests/layering.cmake
file(GLOB_RECURSE files
  ${SRC}/include/sio/*.hpp
  ${SRC}/src/socketio/*.hpp ${SRC}/src/socketio/*.cpp
  ${SRC}/src/engineio/*.hpp ${SRC}/src/engineio/*.cpp
  ${SRC}/src/util/*.hpp ${SRC}/src/util/*.cpp)
set(bad "")
foreach(f ${files})
  if(f MATCHES "/src/socketio/server\\.cpp$")
    continue()
  endif()
  file(STRINGS ${f} lines REGEX "#include \"cluster/")
  if(lines)
    list(APPEND bad "${f}")
  endif()
endforeach()
if(bad)
  string(REPLACE ";" "\n" bad "${bad}")
  message(FATAL_ERROR "cluster/ included outside socketio/server.cpp:\n${bad}")
endif()
list(LENGTH files n)
message(STATUS "layering: ${n} files checked, none includes cluster/")
