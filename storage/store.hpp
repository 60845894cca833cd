#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

// The blocking storage interface. Only the storage actor calls it, on its own
// thread, so implementations need no locking. Errors throw std::runtime_error.
class store {
public:
  virtual ~store() = default;

  // Creates or upgrades the schema to the newest version.
  virtual void migrate() = 0;

  virtual void insert_session(const session_record& x) = 0;
  virtual std::optional<session_record> find_session(const std::string& id) = 0;
  // Updates status, last_activity_at, warning_sent and conversation_data.
  virtual void update_session(const session_record& x) = 0;

  virtual void insert_message(const message_record& x) = 0;
  // All messages of a session, oldest first (created_at, then insertion order).
  virtual std::vector<message_record> messages(const std::string& session_id)
      = 0;
};

// Opens the store named by a PARLEY_DATABASE_URL ("sqlite:PATH"; other schemes
// throw std::runtime_error naming the URL scheme).
std::unique_ptr<store> open_store(const std::string& url);

} // namespace parley::storage
