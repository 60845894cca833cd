#define CAF_SUITE knowledge
#include <caf/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/bm25_index.hpp"
#include "agent/knowledge_base.hpp"
#include "agent/knowledge_split.hpp"

using namespace parley::agent;
namespace fs = std::filesystem;

namespace {

std::vector<std::size_t> ranking(const bm25_index& idx, const char* query,
                                 std::size_t k = 10) {
  std::vector<std::size_t> out;
  for (auto& h : idx.search(query, k))
    out.push_back(h.doc);
  return out;
}

using docs = std::vector<std::size_t>;

bm25_index animals() {
  bm25_index idx;
  idx.add("Cats purr, and cats sleep.");  // cat purr cat sleep
  idx.add("Dogs bark loudly.");           // dog bark loudly
  idx.add("A cat and a dog play.");       // cat dog play
  idx.add("Birds sing.");                 // bird sing
  return idx;
}

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/parley-knowledge-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& text) {
    auto p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream{p} << text;
  }
  fs::path path;
};

} // namespace

CAF_TEST(search terms are lower case without stop words or plural s) {
  CAF_CHECK_EQUAL(search_terms("How much do the Plans COST?"),
                  (std::vector<std::string>{"much", "plan", "cost"}));
  CAF_CHECK_EQUAL(search_terms("class glass x y2 caf\xc3\xa9s"),
                  (std::vector<std::string>{"class", "glass", "y2",
                                            "caf\xc3\xa9"}));
  CAF_CHECK(search_terms("").empty());
  CAF_CHECK(search_terms("... ? !").empty());
}

CAF_TEST(bm25 ranks by term frequency and rarity and length) {
  auto idx = animals();
  CAF_CHECK_EQUAL(ranking(idx, "cat"), (docs{0, 2}));
  // Equal scores keep the order of add().
  CAF_CHECK_EQUAL(ranking(idx, "dog"), (docs{1, 2}));
  CAF_CHECK_EQUAL(ranking(idx, "cats and dogs"), (docs{2, 0, 1}));
  CAF_CHECK_EQUAL(ranking(idx, "cats and dogs", 1), (docs{2}));
  CAF_CHECK_EQUAL(ranking(idx, "singing birds"), (docs{3}));
  CAF_CHECK_EQUAL(ranking(idx, "elephant"), (docs{}));
  CAF_CHECK_EQUAL(ranking(idx, "the and of"), (docs{}));
  CAF_CHECK_EQUAL(ranking(idx, "cat", 0), (docs{}));
  // Exact BM25: N = 4, df(cat) = df(dog) = 2, avgdl = 3; doc 2 has length 3.
  auto hits = idx.search("cat dog", 1);
  CAF_REQUIRE_EQUAL(hits.size(), 1u);
  CAF_CHECK(std::abs(hits[0].score - 2 * std::log(2.0)) < 1e-9);
}

CAF_TEST(an empty index finds nothing) {
  bm25_index idx;
  CAF_CHECK(idx.search("anything", 3).empty());
}

CAF_TEST(documents split at headings and long sections between paragraphs) {
  auto ps = split_document("guide.md", "# Guide\n\nIntro text.\n\n"
                                       "## Install\nRun the\nscript.\n\n"
                                       "Then start it.\n\n"
                                       "### Notes\r\nOne note.\n");
  CAF_REQUIRE_EQUAL(ps.size(), 3u);
  CAF_CHECK_EQUAL(ps[0].title, "Guide");
  CAF_CHECK_EQUAL(ps[0].text, "Intro text.");
  CAF_CHECK_EQUAL(ps[1].title, "Guide - Install");
  CAF_CHECK_EQUAL(ps[1].text, "Run the script.\n\nThen start it.");
  CAF_CHECK_EQUAL(ps[2].title, "Guide - Notes");
  CAF_CHECK_EQUAL(ps[2].text, "One note.");
  CAF_CHECK_EQUAL(ps[0].id.substr(0, 9), "guide.md#");
  CAF_CHECK_EQUAL(ps[0].id.size(), 17u);
  // Stable across starts; a changed passage gets a new id.
  auto again = split_document("guide.md", "# Guide\n\nIntro text.\n");
  CAF_CHECK_EQUAL(again[0].id, ps[0].id);
  auto changed = split_document("guide.md", "# Guide\n\nIntro text!\n");
  CAF_CHECK_NOT_EQUAL(changed[0].id, ps[0].id);
  // No heading: the file name is the title; a long section is cut.
  auto long_ps = split_document("notes.txt", "aaaa\n\nbbbb\n\ncccc", 9);
  CAF_REQUIRE_EQUAL(long_ps.size(), 2u);
  CAF_CHECK_EQUAL(long_ps[0].title, "notes.txt");
  CAF_CHECK_EQUAL(long_ps[0].text, "aaaa\n\nbbbb");
  CAF_CHECK_EQUAL(long_ps[1].text, "cccc");
  CAF_CHECK(split_document("empty.md", "# Only a title\n\n").empty());
}

CAF_TEST(a folder loads in path order and searches by title and text) {
  temp_dir dir;
  dir.write("b-pricing.md", "# Pricing\n\nThe plan is free.\n\n"
                            "## Hosted models\nTokens cost money.\n");
  dir.write("a-start.md", "# Getting started\n\nInstall and run.\n");
  dir.write("sub/c-support.txt", "Write to support by e-mail.\n");
  dir.write("ignored.png", "# Pricing pricing pricing\n");
  auto kb = knowledge_base::load(dir.path.string());
  CAF_REQUIRE_EQUAL(kb.passages().size(), 4u);
  CAF_CHECK_EQUAL(kb.passages()[0].title, "Getting started");
  CAF_CHECK_EQUAL(kb.passages()[3].title, "sub/c-support.txt");
  auto hits = kb.search("what does the pricing plan cost?", 3);
  CAF_REQUIRE_EQUAL(hits.size(), 2u);
  CAF_CHECK_EQUAL(hits[0]->title, "Pricing");
  CAF_CHECK_EQUAL(hits[1]->title, "Pricing - Hosted models");
  hits = kb.search("support e-mail", 3);
  CAF_REQUIRE_EQUAL(hits.size(), 1u);
  CAF_CHECK_EQUAL(hits[0]->id.substr(0, 18), "sub/c-support.txt#");
}

CAF_TEST(a missing folder is a clear error) {
  try {
    knowledge_base::load("/nonexistent/parley-knowledge");
    CAF_FAIL("no error");
  } catch (const std::runtime_error& e) {
    CAF_CHECK_EQUAL(std::string{e.what()},
                    "PARLEY_KNOWLEDGE_DIR /nonexistent/parley-knowledge is "
                    "not a readable folder");
  }
}

CAF_TEST(the shipped sample folder answers questions about parley) {
  auto kb = knowledge_base::load(sample_knowledge_dir());
  CAF_CHECK(kb.passages().size() >= 5u);
  auto hits = kb.search("How much does parley cost?", 3);
  CAF_REQUIRE(!hits.empty());
  CAF_CHECK_EQUAL(hits[0]->title.substr(0, 17), "Pricing and plans");
}

CAF_TEST(snippets are short and cut between words) {
  CAF_CHECK_EQUAL(snippet("short", 10), "short");
  CAF_CHECK_EQUAL(snippet("one two three four", 10), "one two...");
  CAF_CHECK_EQUAL(snippet("abcdefghijkl", 5), "abcde...");
  // Never inside a UTF-8 character.
  CAF_CHECK_EQUAL(snippet("caf\xc3\xa9\xc3\xa9", 4), "caf...");
}
