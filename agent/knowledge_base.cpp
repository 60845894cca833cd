#include "agent/knowledge_base.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace parley::agent {

namespace fs = std::filesystem;

namespace {

bool is_document(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".md" || ext == ".markdown" || ext == ".txt";
}

std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream text;
  if (!in || !(text << in.rdbuf()))
    throw std::runtime_error("cannot read knowledge file " + p.string());
  return text.str();
}

} // namespace

knowledge_base knowledge_base::load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("PARLEY_KNOWLEDGE_DIR " + dir
                             + " is not a readable folder");
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it{
    dir, fs::directory_options::skip_permission_denied, ec};
  if (ec)
    throw std::runtime_error("cannot list PARLEY_KNOWLEDGE_DIR " + dir + ": "
                             + ec.message());
  for (; it != fs::recursive_directory_iterator{}; it.increment(ec)) {
    if (ec)
      throw std::runtime_error("cannot list PARLEY_KNOWLEDGE_DIR " + dir
                               + ": " + ec.message());
    if (it->is_regular_file(ec) && is_document(it->path()))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  knowledge_base kb;
  for (auto& f : files)
    kb.add_document(fs::relative(f, dir).generic_string(), read_file(f));
  return kb;
}

void knowledge_base::add_document(const std::string& name,
                                  const std::string& text) {
  for (auto& p : split_document(name, text)) {
    index_.add(p.title + '\n' + p.text);
    passages_.push_back(std::move(p));
  }
}

std::vector<const passage*> knowledge_base::search(std::string_view query,
                                                   std::size_t k) const {
  std::vector<const passage*> out;
  for (auto& h : index_.search(query, k))
    out.push_back(&passages_[h.doc]);
  return out;
}

const char* sample_knowledge_dir() {
  return PARLEY_SAMPLE_KNOWLEDGE_DIR;
}

std::string snippet(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars)
    return text;
  auto cut = text.rfind(' ', max_chars);
  if (cut == std::string::npos || cut == 0)
    cut = max_chars;
  // Never inside a UTF-8 character: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
    --cut;
  auto out = text.substr(0, cut);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n'))
    out.pop_back();
  return out + "...";
}

} // namespace parley::agent
