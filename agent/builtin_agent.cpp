#include "agent/builtin_agent.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "agent/knowledge_base.hpp"
#include "agent/profile_scan.hpp"

namespace parley::agent {

namespace {

using json = nlohmann::json;

json parse_object(const std::string& text) {
  auto x = json::parse(text, nullptr, false);
  return x.is_object() ? x : json::object();
}

// A profile field as text; data a client sent may hold any JSON type.
std::string text_field(const json& profile, const char* key) {
  auto i = profile.find(key);
  return i != profile.end() && i->is_string() ? i->get<std::string>()
                                               : std::string{};
}

std::string lower(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

// "alice smith" -> "Alice Smith"
std::string title_case(std::string x) {
  bool start = true;
  for (auto& c : x) {
    auto u = static_cast<unsigned char>(c);
    c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
    start = std::isspace(u) != 0;
  }
  return x;
}

// Split at ASCII white space (a stream's >> would look up its locale's
// facets for every word).
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  auto space = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  for (auto i = text.begin(); i != text.end();) {
    i = std::find_if_not(i, text.end(), space);
    auto end = std::find_if(i, text.end(), space);
    if (i != end)
      out.emplace_back(i, end);
    i = end;
  }
  return out;
}

// The first sentence of a passage (its first paragraph at most), short.
std::string first_sentence(const std::string& text) {
  auto end = text.find("\n\n");
  for (auto stop : {". ", "? ", "! "})
    if (auto i = text.find(stop); i < end)
      end = i + 1;
  return snippet(text.substr(0, end), 300);
}

// The reply's sentences: a greeting, an answer to the topic (from the best
// knowledge passage when there is one), and a request for whatever profile
// field is still missing.
std::string compose(const std::string& user_text, const json& profile,
                    const passage* best) {
  auto text = lower(user_text);
  std::string name = text_field(profile, "name");
  std::string out = name.empty() ? "Thanks for your message! "
                                 : "Thanks, " + name + "! ";
  if (best != nullptr) {
    auto sentence = first_sentence(best->text);
    if (!sentence.empty() && sentence.back() != '.' && sentence.back() != '?'
        && sentence.back() != '!')
      sentence += '.';
    out += "From \"" + best->title + "\": " + sentence + ' ';
  } else if (contains(text, "price") || contains(text, "cost")
      || contains(text, "how much"))
    out += "Pricing depends on the plan you choose, and I can walk you "
           "through the options that fit your needs. ";
  else if (contains(text, "help") || contains(text, "support"))
    out += "I am here to help, so tell me a little more about what you "
           "need and I will point you in the right direction. ";
  else if (text.find('?') != std::string::npos)
    out += "That is a good question, and I will do my best to give you a "
           "clear and useful answer. ";
  else
    out += "I have noted that, and I am happy to keep going whenever you "
           "are ready. ";
  bool has_name = !name.empty();
  bool has_email = !text_field(profile, "email").empty();
  if (!has_name && !has_email)
    out += "May I have your name and e-mail address so that we can follow "
           "up with you?";
  else if (!has_name)
    out += "May I have your name as well?";
  else if (!has_email)
    out += "What e-mail address should we use to follow up with you?";
  else
    out += "Is there anything else I can help you with today?";
  return out;
}

// Exactly n words, cycling through the composed reply's words.
std::vector<std::string> fit_words(std::vector<std::string> words, int n) {
  if (n <= 0 || words.empty())
    return words;
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out.push_back(words[static_cast<std::size_t>(i) % words.size()]);
  return out;
}

std::vector<std::string> suggest(const json& profile) {
  std::vector<std::string> out;
  if (text_field(profile, "name").empty() || text_field(profile, "email").empty())
    out.emplace_back("Here are my contact details");
  out.emplace_back("What are the benefits?");
  out.emplace_back("How do I get started?");
  out.emplace_back("How much does it cost?");
  out.resize(3);
  return out;
}

// The visitor's profile after this message: the conversation's data (when
// it is an object) with the e-mail address and name the message gives.
json profile_after(const std::string& text,
                   const std::string& conversation_data) {
  auto profile = parse_object(conversation_data);
  if (auto email = find_email(text); !email.empty())
    profile["email"] = email;
  if (auto name = find_name(text); !name.empty())
    profile["name"] = title_case(name);
  return profile;
}

turn_output extras_of(const json& profile) {
  turn_output out;
  out.conversation_data = profile.dump();
  out.needs_info = text_field(profile, "name").empty()
                   || text_field(profile, "email").empty();
  out.suggestions = suggest(profile);
  return out;
}

} // namespace

std::string extract_profile(const std::string& text,
                            const std::string& conversation_data) {
  return profile_after(text, conversation_data).dump();
}

turn_output visitor_extras(const turn_input& in) {
  return extras_of(profile_after(in.user_text, in.conversation_data));
}

turn_output builtin_agent::answer(const turn_input& in) const {
  auto profile = profile_after(in.user_text, in.conversation_data);
  auto out = extras_of(profile);
  if (knowledge_ != nullptr)
    for (auto* p : knowledge_->search(in.user_text, max_sources))
      out.sources.push_back(*p);
  auto best = out.sources.empty() ? nullptr : &out.sources.front();
  auto words
    = fit_words(words_of(compose(in.user_text, profile, best)), words_);
  // Each chunk is one word with its trailing space, as the document shows
  // ("word "); the last has none, so the chunks join to the full reply.
  out.chunks.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i)
    out.chunks.push_back(i + 1 < words.size() ? words[i] + ' ' : words[i]);
  return out;
}

} // namespace parley::agent
