#pragma once

#include <vector>

#include "agent/knowledge_split.hpp"
#include "storage/records.hpp"

namespace parley {

// Passages as a reply's sources: id, title and a short snippet as content.
std::vector<storage::knowledge_record>
sources_of(const std::vector<agent::passage>& xs);

// Appends `more` to `xs`, leaving out ids `xs` already cites.
void add_sources(std::vector<storage::knowledge_record>& xs,
                 const std::vector<storage::knowledge_record>& more);

} // namespace parley
