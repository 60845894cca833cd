#include "actors/sources.hpp"

#include <algorithm>

#include "agent/knowledge_base.hpp"

namespace parley {

std::vector<storage::knowledge_record>
sources_of(const std::vector<agent::passage>& xs) {
  std::vector<storage::knowledge_record> out;
  out.reserve(xs.size());
  for (auto& x : xs)
    out.push_back({x.id, x.title, agent::snippet(x.text)});
  return out;
}

void add_sources(std::vector<storage::knowledge_record>& xs,
                 const std::vector<storage::knowledge_record>& more) {
  for (auto& k : more)
    if (std::none_of(xs.begin(), xs.end(),
                     [&](const storage::knowledge_record& x) {
                       return x.id == k.id;
                     }))
      xs.push_back(k);
}

} // namespace parley
