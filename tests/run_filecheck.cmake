# Runs one FileCheck test of kiln-opt (a tests/ir/*.kir file).
#
#   cmake -DKILN_OPT=<kiln-opt> -DFILECHECK=<FileCheck> -DINPUT=<file.kir>
#         [-DWORK_DIR=<dir>] -P run_filecheck.cmake
#
# Directives read from the .kir file (each a line of its own):
#   // RUN-PASSES: <pipeline>   required; the comma-separated pipeline given to
#                               --passes= (may be empty: parse and print only)
#   // RUN-FLAGS: <flags>       optional; extra kiln-opt arguments
#   // RUN-EXPECT-ERROR         optional; kiln-opt must exit with status 1
#
# kiln-opt's stdout and stderr are captured together (in the order written,
# as `2>&1` would) and checked by FileCheck against the .kir file itself,
# whose CHECK lines are comments to the IR parser.

foreach(var KILN_OPT FILECHECK INPUT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_filecheck.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${INPUT}")
  message(FATAL_ERROR "run_filecheck.cmake: input '${INPUT}' does not exist")
endif()

get_filename_component(test_name "${INPUT}" NAME_WE)

# Only the directive lines; file(STRINGS) keeps other lines' ';' from
# splitting anything we use.
file(STRINGS "${INPUT}" pass_lines REGEX "^[ \t]*//[ \t]*RUN-PASSES:")
file(STRINGS "${INPUT}" flag_lines REGEX "^[ \t]*//[ \t]*RUN-FLAGS:")
file(STRINGS "${INPUT}" error_lines REGEX "^[ \t]*//[ \t]*RUN-EXPECT-ERROR[ \t]*$")

list(LENGTH pass_lines n_pass_lines)
if(NOT n_pass_lines EQUAL 1)
  message(FATAL_ERROR "${INPUT}: expected exactly one '// RUN-PASSES: <pipeline>' line, "
                      "found ${n_pass_lines}")
endif()
string(REGEX REPLACE "^[ \t]*//[ \t]*RUN-PASSES:[ \t]*" "" pipeline "${pass_lines}")
string(STRIP "${pipeline}" pipeline)

set(extra_flags "")
foreach(line IN LISTS flag_lines)
  string(REGEX REPLACE "^[ \t]*//[ \t]*RUN-FLAGS:[ \t]*" "" flags "${line}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  list(APPEND extra_flags ${flags})
endforeach()

set(expect_error FALSE)
if(error_lines)
  set(expect_error TRUE)
endif()

if(NOT DEFINED WORK_DIR OR "${WORK_DIR}" STREQUAL "")
  set(WORK_DIR "${CMAKE_CURRENT_BINARY_DIR}/filecheck")
endif()
file(MAKE_DIRECTORY "${WORK_DIR}")
set(output_file "${WORK_DIR}/${test_name}.out")
file(REMOVE "${output_file}")

set(cmd "${KILN_OPT}" "--passes=${pipeline}" ${extra_flags} "${INPUT}")
string(REPLACE ";" " " cmd_text "${cmd}")
message(STATUS "running: ${cmd_text}")

execute_process(
  COMMAND ${cmd}
  OUTPUT_FILE "${output_file}"
  ERROR_FILE "${output_file}"
  RESULT_VARIABLE opt_result
  TIMEOUT 60)

if(EXISTS "${output_file}")
  file(READ "${output_file}" opt_output)
else()
  set(opt_output "")
endif()

if(expect_error)
  if(NOT opt_result STREQUAL "1")
    message(FATAL_ERROR "${INPUT}: kiln-opt was expected to fail with exit status 1, "
                        "got '${opt_result}'; its output:\n${opt_output}")
  endif()
elseif(NOT opt_result STREQUAL "0")
  message(FATAL_ERROR "${INPUT}: kiln-opt failed (exit status '${opt_result}'); "
                      "its output:\n${opt_output}")
endif()

execute_process(
  COMMAND "${FILECHECK}" "${INPUT}" "--input-file=${output_file}" --dump-input=fail
  RESULT_VARIABLE fc_result
  OUTPUT_VARIABLE fc_output
  ERROR_VARIABLE fc_output
  TIMEOUT 60)

if(NOT fc_result STREQUAL "0")
  message(FATAL_ERROR "${INPUT}: FileCheck failed (exit status '${fc_result}'):\n"
                      "${fc_output}\n--- kiln-opt output ---\n${opt_output}")
endif()
message(STATUS "${test_name}: passed")
