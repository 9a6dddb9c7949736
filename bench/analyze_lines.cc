// hymir-analyze: the terms an analyzer makes of each line of stdin, one output
// line per input line, space-separated (bench/stem_compare.sh compares them
// with Java Lucene's).
//
//   hymir-analyze --analyzer english < texts
#include <hymir/index/analyzer.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"hymir-analyze: the terms of each line of stdin"};
  std::string name = "english";
  app.add_option("--analyzer", name, "english | english-lucenepp30 | standard | whitespace (default english)");
  CLI11_PARSE(app, argc, argv);
  auto kind = hymir::index::ParseAnalyzerKind(name);
  if (!kind.ok()) {
    std::fprintf(stderr, "hymir-analyze: %s\n", kind.status().ToString().c_str());
    return 2;
  }
  std::ios::sync_with_stdio(false);
  std::string line, out;
  while (std::getline(std::cin, line)) {
    out.clear();
    for (const std::string& term : hymir::index::Analyze(*kind, line)) {
      if (!out.empty()) out += ' ';
      out += term;
    }
    out += '\n';
    std::cout << out;
  }
  return std::cout.good() ? 0 : 1;
}
