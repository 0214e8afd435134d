# Installs the build tree into a scratch prefix, builds tests/outside_project
# against it, runs the app, and checks that kiln-opt was installed.
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/outside_project -B ${WORK_DIR}/build -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/app)
if(NOT last_output MATCHES "array\\(\\[6, 24\\], dtype=int32\\)")
  message(FATAL_ERROR "unexpected output of the outside app: ${last_output}")
endif()
run(${WORK_DIR}/build/c_app)
if(NOT last_output MATCHES "c_app: 54")
  message(FATAL_ERROR "unexpected output of the outside C app: ${last_output}")
endif()
run(${WORK_DIR}/prefix/bin/kiln-opt --list-passes)
if(NOT last_output MATCHES "canonicalize")
  message(FATAL_ERROR "installed kiln-opt did not list its passes: ${last_output}")
endif()
# The Python package (built when KILN_BUILD_PYTHON is on): importable from
# the prefix with the README's PYTHONPATH line. (No ';' in the script: run()
# passes its arguments as a CMake list.)
if(EXISTS ${WORK_DIR}/prefix/lib/python3/dist-packages/kiln/__init__.py)
  run(${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/prefix/lib/python3/dist-packages
      /usr/bin/python3 -c "mx = __import__('kiln.core').core\nprint('py_app:', mx.sum(mx.arange(5) * 2).item())")
  if(NOT last_output MATCHES "py_app: 20")
    message(FATAL_ERROR "unexpected output of the installed Python package: ${last_output}")
  endif()
endif()
