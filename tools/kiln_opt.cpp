// kiln-opt: reads one function in the IR text form, runs a pipeline of named
// passes over it and prints the result — the way each pass is tested in
// isolation (tests/ir/*.kir, with FileCheck).
//
//   kiln-opt [--passes=a,b,c] [--print-after-all] [--fusion] [-o out] [file|-]
//
// Exit status: 0 on success, 1 on any error (bad flag, unknown pass,
// unreadable input, parse error, failing pass); the error is on stderr.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"

namespace {

void usage(std::ostream& os) {
  os << "usage: kiln-opt [options] [file|-]\n"
        "\n"
        "Reads one kiln IR function (from stdin when the file is '-' or absent),\n"
        "runs the named passes in order and prints the resulting IR.\n"
        "\n"
        "options:\n"
        "  --passes=a,b,c     comma-separated pipeline (empty: parse and print)\n"
        "  --print-after-all  print the IR after each pass to stderr, under\n"
        "                     '// ----- IR after <pass> -----'\n"
        "  --fusion           after the passes, print the fusion plan (kernels,\n"
        "                     host steps, why each value is materialized, each\n"
        "                     kernel's loop-level description and its schedule\n"
        "                     for the default CPU target) instead of the IR\n"
        "  -o <file>          write the result to <file> instead of stdout\n"
        "  --list-passes      print the registered pass names, one a line\n"
        "  -h, --help         print this help\n"
        "\n"
        "exit status: 0 on success, 1 on any error (bad option, unknown pass,\n"
        "unreadable file, parse error, pass failure); errors go to stderr, parse\n"
        "errors as '<file>:<line>:<col>: error: <message>'.\n"
        "\n"
        "passes:";
  for (const auto& n : kiln::passes::pass_names()) os << " " << n;
  os << "\n";
}

int fail(const std::string& msg) {
  std::cerr << "kiln-opt: error: " << msg << "\n";
  return 1;
}

// ParseError::what() reads "<line>:<col>: <problem>"; print the problem alone
// after our own location prefix.
std::string parse_problem(const kiln::ir::ParseError& e) {
  std::string what = e.what();
  std::string prefix = std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": ";
  if (what.compare(0, prefix.size(), prefix) == 0) return what.substr(prefix.size());
  return what;
}

int run(int argc, char** argv) {
  std::string pipeline;
  std::string input;
  std::string output;
  bool have_input = false;
  bool print_after_all = false;
  bool fusion = false;

  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    } else if (a == "--list-passes") {
      for (const auto& n : kiln::passes::pass_names()) std::cout << n << "\n";
      return 0;
    } else if (a.rfind("--passes=", 0) == 0) {
      pipeline = a.substr(9);
    } else if (a == "--passes") {
      if (i + 1 >= argc) return fail("--passes needs a value (try --help)");
      pipeline = argv[++i];
    } else if (a == "--print-after-all") {
      print_after_all = true;
    } else if (a == "--fusion") {
      fusion = true;
    } else if (a == "-o") {
      if (i + 1 >= argc) return fail("-o needs a file name (try --help)");
      output = argv[++i];
    } else if (a.rfind("-o", 0) == 0 && a.size() > 2 && a[2] != '-') {
      output = a.substr(2);
    } else if (a == "-" || a.empty() || a[0] != '-') {
      if (have_input) return fail("more than one input file: '" + input + "' and '" + a + "'");
      input = a;
      have_input = true;
    } else {
      return fail("unknown option '" + a + "' (try --help)");
    }
  }

  kiln::passes::PassManager pm;
  try {
    pm.add_pipeline(pipeline);
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }

  std::string text;
  std::string display_name;
  if (!have_input || input == "-") {
    display_name = "<stdin>";
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    display_name = input;
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      return fail("cannot read input file '" + input + "': it is a directory");
    std::ifstream in(input, std::ios::binary);
    if (!in) return fail("cannot open input file '" + input + "'");
    try {
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::exception& e) {
      return fail("cannot read input file '" + input + "': " + e.what());
    }
    if (in.bad()) return fail("cannot read input file '" + input + "'");
  }

  kiln::ir::Function f;
  try {
    f = kiln::ir::parse(text);
  } catch (const kiln::ir::ParseError& e) {
    std::cerr << display_name << ":" << e.line() << ":" << e.column()
              << ": error: " << parse_problem(e) << "\n";
    return 1;
  }

  if (print_after_all) pm.print_after_each(&std::cerr);
  try {
    f = pm.run(std::move(f));
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  std::string result;
  try {
    result = fusion ? kiln::passes::plan_to_string(f, kiln::passes::plan_fusion(f)) : kiln::ir::print(f);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (!result.empty() && result.back() != '\n') result += '\n';
  if (output.empty() || output == "-") {
    std::cout << result;
    std::cout.flush();
    if (!std::cout) return fail("cannot write to stdout");
  } else {
    std::ofstream out(output, std::ios::binary);
    if (!out) return fail("cannot open output file '" + output + "'");
    out << result;
    out.close();
    if (!out) return fail("cannot write output file '" + output + "'");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return fail(e.what());
  } catch (...) {
    return fail("unknown internal error");
  }
}
