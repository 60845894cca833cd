#include "storage/source_links.hpp"

#include <string_view>
#include <unordered_map>

namespace parley::storage {

void attach_sources(std::vector<message_record>& xs,
                    std::vector<source_link> links) {
  if (links.empty())
    return;
  std::unordered_map<std::string_view, message_record*> by_id;
  for (auto& x : xs)
    by_id.emplace(x.id, &x);
  for (auto& link : links)
    if (auto i = by_id.find(link.message_id); i != by_id.end())
      i->second->sources.push_back(std::move(link.source));
}

} // namespace parley::storage
