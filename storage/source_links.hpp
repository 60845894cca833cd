#pragma once

#include <string>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

// One row of message_knowledge joined with its knowledge source.
struct source_link {
  std::string message_id;
  knowledge_record source;
};

// Hands each link's source to its message in `xs`, in the order of `links`
// (both backends read them ordered by position). Links to messages not in
// `xs` are ignored.
void attach_sources(std::vector<message_record>& xs,
                    std::vector<source_link> links);

} // namespace parley::storage
