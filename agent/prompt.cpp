#include "agent/prompt.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace parley::agent {

const char* const default_system_prompt
  = "You are a friendly assistant chatting with a visitor on a company "
    "website. Answer clearly and briefly, in the visitor's language. If "
    "you do not know the visitor's name or e-mail address yet, ask for "
    "them politely at a natural moment so that the team can follow up.";

namespace {

constexpr std::size_t max_profile_chars = 2000;

bool blank(const std::string& x) {
  return std::all_of(x.begin(), x.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
}

std::string with_profile(const std::string& system_prompt,
                         const std::string& conversation_data) {
  auto profile = nlohmann::json::parse(conversation_data, nullptr, false);
  if (!profile.is_object() || profile.empty())
    return system_prompt;
  auto text
    = profile.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > max_profile_chars)
    return system_prompt; // not worth a cut JSON text
  return system_prompt
         + "\n\nWhat the visitor has told us so far (JSON): " + text;
}

} // namespace

llm_request build_request(const std::string& system_prompt,
                          const std::string& conversation_data,
                          const std::vector<chat_message>& history,
                          std::size_t budget_chars) {
  llm_request out;
  out.system = with_profile(system_prompt, conversation_data);
  // Newest first, until the budget is spent.
  std::vector<const chat_message*> picked;
  std::size_t used = 0;
  for (auto i = history.rbegin(); i != history.rend(); ++i) {
    if ((i->role != "user" && i->role != "assistant")
        || (blank(i->content) && i->image.empty()))
      continue;
    if (!picked.empty() && used + i->content.size() > budget_chars)
      break;
    used += i->content.size();
    picked.push_back(&*i);
  }
  // A conversation sent to a model opens with the user.
  while (!picked.empty() && picked.back()->role != "user")
    picked.pop_back();
  for (auto i = picked.rbegin(); i != picked.rend(); ++i) {
    auto& m = **i;
    if (!out.messages.empty() && out.messages.back().role == m.role
        && m.image.empty())
      out.messages.back().content += "\n\n" + m.content;
    else
      out.messages.push_back(m);
  }
  return out;
}

std::string with_passages(const std::string& system_prompt,
                          const std::vector<passage>& passages) {
  if (passages.empty())
    return system_prompt;
  auto out = system_prompt
             + "\n\nAnswer from these knowledge passages when they cover the "
               "question; say so when they do not.";
  int n = 0;
  for (auto& p : passages)
    out += "\n\n[" + std::to_string(++n) + "] " + p.title + "\n" + p.text;
  return out;
}

} // namespace parley::agent
