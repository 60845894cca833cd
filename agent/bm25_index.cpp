#include "agent/bm25_index.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace parley::agent {

namespace {

constexpr double k1 = 1.2;
constexpr double b = 0.75;

bool is_stop_word(const std::string& x) {
  static const std::unordered_set<std::string> words{
    "a",     "about", "am",   "an",    "and",  "are",  "as",    "at",
    "be",    "but",   "by",   "can",   "do",   "does", "for",   "from",
    "had",   "has",   "have", "how",   "i",    "if",   "in",    "into",
    "is",    "it",    "its",  "me",    "my",   "no",   "not",   "of",
    "on",    "or",    "our",  "so",    "than", "that", "the",   "their",
    "them",  "then",  "there", "these", "they", "this", "to",   "us",
    "was",   "we",    "were", "what",  "when", "where", "which", "who",
    "why",   "will",  "with", "would", "you",  "your"};
  return words.count(x) > 0;
}

bool is_term_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c >= 0x80;
}

std::string stemmed(std::string x) {
  if (x.size() > 3 && x.back() == 's' && x[x.size() - 2] != 's')
    x.pop_back();
  return x;
}

} // namespace

std::vector<std::string> search_terms(std::string_view text) {
  std::vector<std::string> out;
  std::string term;
  auto end_term = [&] {
    if (term.size() > 1 && !is_stop_word(term))
      out.push_back(stemmed(std::move(term)));
    term.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (!is_term_byte(c)) {
      end_term();
      continue;
    }
    term += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
  }
  end_term();
  return out;
}

std::size_t bm25_index::add(std::string_view text) {
  auto doc = lengths_.size();
  auto terms = search_terms(text);
  std::unordered_map<std::string, std::size_t> counts;
  for (auto& t : terms)
    ++counts[t];
  for (auto& [term, count] : counts)
    postings_[term].push_back({doc, count});
  lengths_.push_back(terms.size());
  total_length_ += terms.size();
  return doc;
}

std::vector<bm25_index::hit> bm25_index::search(std::string_view query,
                                                std::size_t k) const {
  if (lengths_.empty() || k == 0)
    return {};
  auto n = static_cast<double>(lengths_.size());
  auto avg = std::max(1.0, static_cast<double>(total_length_) / n);
  std::unordered_map<std::size_t, double> scores;
  auto terms = search_terms(query);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  for (auto& t : terms) {
    auto i = postings_.find(t);
    if (i == postings_.end())
      continue;
    auto df = static_cast<double>(i->second.size());
    auto idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (auto& p : i->second) {
      auto tf = static_cast<double>(p.count);
      auto len = static_cast<double>(lengths_[p.doc]);
      scores[p.doc] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg));
    }
  }
  std::vector<hit> out;
  out.reserve(scores.size());
  for (auto& [doc, score] : scores)
    out.push_back({doc, score});
  auto better = [](const hit& x, const hit& y) {
    return x.score != y.score ? x.score > y.score : x.doc < y.doc;
  };
  if (out.size() > k) {
    std::partial_sort(out.begin(), out.begin() + static_cast<long>(k),
                      out.end(), better);
    out.resize(k);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

} // namespace parley::agent
