#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::agent {

// Search terms of a text: runs of ASCII letters and digits (bytes of
// non-ASCII UTF-8 characters count as letters, so other scripts stay whole),
// lower-cased, without common English words and one-letter terms, with a
// plural "s" removed ("plans" -> "plan", but "class" stays).
std::vector<std::string> search_terms(std::string_view text);

// An Okapi BM25 index over numbered documents (k1 = 1.2, b = 0.75, and
// Lucene's idf, which stays positive for terms in most documents).
class bm25_index {
public:
  struct hit {
    std::size_t doc; // the order of add()
    double score;
  };

  // Adds the next document; returns its number.
  std::size_t add(std::string_view text);

  // The best `k` documents that share a term with `query`, best first;
  // equal scores keep the order of add().
  std::vector<hit> search(std::string_view query, std::size_t k) const;

  std::size_t size() const {
    return lengths_.size();
  }

private:
  struct posting {
    std::size_t doc;
    std::size_t count;
  };
  std::unordered_map<std::string, std::vector<posting>> postings_;
  std::vector<std::size_t> lengths_; // terms per document
  std::size_t total_length_ = 0;
};

} // namespace parley::agent
