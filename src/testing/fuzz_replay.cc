// The main of a fuzz target in the default build: runs the target's LLVMFuzzerTestOneInput once
// over every input named on the command line. An argument is a file or a directory, whose regular
// files (recursively) run in name order. A target signals a violated property by aborting, so a
// crash, an abort or a sanitizer report fails the run. Exits 1 when an argument cannot be read or
// names no input at all (an empty corpus would make the test pass without testing anything).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(argv[i], ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.emplace_back(argv[i]);
    }
    if (ec || files.empty()) {
      std::fprintf(stderr, "%s: no inputs\n", argv[i]);
      return 1;
    }
    for (const fs::path& file : files) {
      std::string data;
      if (!ReadFile(file, &data)) {
        std::fprintf(stderr, "%s: cannot read\n", file.c_str());
        return 1;
      }
      // A copy of exactly the input's size, so ASan builds catch a read past its end.
      std::vector<uint8_t> copy(data.begin(), data.end());
      LLVMFuzzerTestOneInput(copy.data(), copy.size());
      ++inputs;
    }
  }
  std::printf("ran %zu inputs\n", inputs);
  return 0;
}
