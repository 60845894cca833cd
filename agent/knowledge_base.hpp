#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/bm25_index.hpp"
#include "agent/knowledge_split.hpp"

namespace parley::agent {

// The passages of PARLEY_KNOWLEDGE_DIR and their search index. Built once at
// start, then only read, so every thread may search it at once.
class knowledge_base {
public:
  // Reads every .md, .markdown and .txt file under `dir` (subfolders too, in
  // path order). Throws std::runtime_error naming the folder or file that
  // cannot be read.
  static knowledge_base load(const std::string& dir);

  // Splits one document (named by its path in the folder) and indexes it.
  void add_document(const std::string& name, const std::string& text);

  // The passages sharing terms with `query`, best first, at most `k`.
  std::vector<const passage*> search(std::string_view query,
                                     std::size_t k) const;

  const std::vector<passage>& passages() const {
    return passages_;
  }

private:
  std::vector<passage> passages_; // index i is document i of index_
  bm25_index index_;
};

// The sample folder shipped in the source tree (agent/knowledge), the
// default of PARLEY_KNOWLEDGE_DIR.
const char* sample_knowledge_dir();

// The start of a passage's text for a source's `content`: at most
// `max_chars` bytes, cut at a space, with "..." when cut.
std::string snippet(const std::string& text, std::size_t max_chars = 200);

} // namespace parley::agent
