# The Python module's toolchain: pybind11 (found at the top, with CMake's
# FindPython, so Python_EXECUTABLE is the interpreter the module is built
# for) and the interpreter that runs the pytest suite. The suite needs numpy
# and pytest; when the first interpreter found lacks them (a private Python
# earlier on PATH), Debian's /usr/bin/python3 of the same version is used.
if(NOT pybind11_FOUND)
  message(FATAL_ERROR "HYMIR_PYTHON needs pybind11 (Debian: pybind11-dev python3-dev)")
endif()
set(HYMIR_PYTHON_TEST_INTERPRETER ${Python_EXECUTABLE})
set(_hymir_py_check "import sys, numpy, pytest; sys.exit(sys.version_info[:2] != (${Python_VERSION_MAJOR}, ${Python_VERSION_MINOR}))")
execute_process(COMMAND ${Python_EXECUTABLE} -c "${_hymir_py_check}" RESULT_VARIABLE _hymir_py_rc OUTPUT_QUIET ERROR_QUIET)
if(NOT _hymir_py_rc EQUAL 0 AND EXISTS /usr/bin/python3)
  execute_process(COMMAND /usr/bin/python3 -c "${_hymir_py_check}" RESULT_VARIABLE _hymir_py_rc OUTPUT_QUIET ERROR_QUIET)
  if(_hymir_py_rc EQUAL 0)
    set(HYMIR_PYTHON_TEST_INTERPRETER /usr/bin/python3)
  endif()
endif()
if(NOT _hymir_py_rc EQUAL 0)
  message(WARNING "No Python ${Python_VERSION_MAJOR}.${Python_VERSION_MINOR} with numpy and pytest: the python_tests "
                  "test will fail (scripts/setup.sh installs python3-numpy and python3-pytest)")
endif()
message(STATUS "hymir Python module for ${Python_EXECUTABLE} (${Python_VERSION}); tests run with ${HYMIR_PYTHON_TEST_INTERPRETER}")
