#pragma once

#include <string>
#include <vector>

#include "agent/knowledge_split.hpp"
#include "agent/llm_types.hpp"

namespace parley::agent {

class knowledge_base;

// What the agent can do besides writing text: search_knowledge (read-only)
// and save_contact_details (needs approval). Providers that call tools get
// these in their requests; the conversation runs the calls.
const std::vector<tool_spec>& tool_registry();

// The tool of that name, or null.
const tool_spec* find_tool(const std::string& name);

// What running a call gave.
struct tool_outcome {
  std::string content; // JSON text for the model: a result or {"error": ...}
  std::vector<passage> sources; // passages it found (search_knowledge)
  // The visitor profile after the call (save_contact_details); empty when
  // the call changed nothing.
  std::string conversation_data;
};

// Runs a call (approved, if it needs approval) against the knowledge and
// the visitor profile `conversation_data` (a JSON object text). Bad
// arguments or an unknown tool give an error result, never an exception:
// the model reads it and may try again.
tool_outcome run_tool(const tool_call& call, const knowledge_base* knowledge,
                      const std::string& conversation_data);

// The result of a call the person declined, or (`expired`) that nobody
// approved in time.
tool_outcome declined_tool(bool expired = false);

// A call as its tool-call message stores it: the JSON array of seed 000 /
// OpenAI, [{"id", "type": "function", "function": {"name", "arguments"}}].
std::string tool_calls_json(const std::vector<tool_call>& calls);

} // namespace parley::agent
