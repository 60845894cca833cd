#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/knowledge_split.hpp"

namespace parley::agent {

// What an agent gets for one turn.
struct turn_input {
  std::string user_text;
  std::string conversation_data; // JSON object text ("{}" when empty)
};

// What an agent produces for one turn: the reply as the chunks it streams in
// (joined they are the full reply), plus the visitor-chat extras.
struct turn_output {
  std::vector<std::string> chunks;
  std::vector<std::string> suggestions;
  std::string conversation_data; // updated JSON object text
  bool needs_info = false;       // name or e-mail still unknown
  // The knowledge passages the reply drew on, best first.
  std::vector<passage> sources;
};

class knowledge_base;

// How many passages a reply cites at most.
constexpr std::size_t max_sources = 3;

// The offline agent: no network, deterministic for a given input. It picks
// the visitor's name and e-mail out of what they write, asks for what is
// missing, and answers with a few sentences, quoting the best passage of
// `knowledge` (when given) and citing the passages found as sources.
// `words` > 0 fixes the reply to exactly that many words (benchmarks compare
// like with like).
class builtin_agent {
public:
  explicit builtin_agent(int words = 0,
                         const knowledge_base* knowledge = nullptr)
      : words_(words), knowledge_(knowledge) {
    // nop
  }

  turn_output answer(const turn_input& in) const;

private:
  int words_;
  const knowledge_base* knowledge_;
};

// Everything of a visitor-chat turn but the reply text: the updated
// profile, needs_info and suggestions. Real providers write the text and
// use this for the rest, so the visitor chat works the same with any agent.
turn_output visitor_extras(const turn_input& in);

// Profile extraction, exposed for tests: returns the updated JSON object text.
std::string extract_profile(const std::string& text,
                            const std::string& conversation_data);

} // namespace parley::agent
