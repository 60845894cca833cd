#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace parley::agent {

// A piece of a knowledge document small enough to cite: a section of a
// markdown file, or part of one when the section is long.
struct passage {
  // "<file>#<hash of title and text>": the same passage gets the same id on
  // every start, and a changed passage a new one, so a stored source never
  // silently changes under the messages that cite it.
  std::string id;
  std::string title; // the document's title, then the section's heading
  std::string text;  // paragraphs joined by blank lines
};

// Splits one document into passages. `name` is the file's path relative to
// the knowledge folder. The document's title is its first `# ` heading, else
// `name`; every heading starts a new passage, and a section longer than
// `max_chars` is cut between paragraphs. Markdown emphasis is kept as is.
std::vector<passage> split_document(const std::string& name,
                                    const std::string& text,
                                    std::size_t max_chars = 800);

} // namespace parley::agent
