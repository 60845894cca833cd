#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/knowledge_split.hpp"
#include "agent/llm_types.hpp"

namespace parley::agent {

// The system prompt when neither PARLEY_LLM_SYSTEM_PROMPT nor
// PARLEY_LLM_SYSTEM_PROMPT_FILE is set.
extern const char* const default_system_prompt;

// The prompt for one turn of a visitor chat:
// - the system prompt, plus what the visitor has told us so far
//   (`conversation_data`, a JSON object) so the model need not ask again;
// - the most recent messages of `history` (oldest first, ending with the
//   visitor's new message) whose contents fit in `budget_chars`; the newest
//   always goes, however long. Empty messages and roles other than user and
//   assistant are dropped, the history starts with a user message, and
//   neighbours with the same role are merged, because several servers'
//   chat templates insist that roles alternate.
llm_request build_request(const std::string& system_prompt,
                          const std::string& conversation_data,
                          const std::vector<chat_message>& history,
                          std::size_t budget_chars);

// Appends knowledge passages to a system prompt, numbered, each with its
// title, and asks the model to answer from them. No passages: unchanged.
std::string with_passages(const std::string& system_prompt,
                          const std::vector<passage>& passages);

} // namespace parley::agent
