#include "actors/llm_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "agent/builtin_agent.hpp"
#include "config/settings.hpp"

namespace parley {


caf::behavior llm_actor(caf::stateful_actor<llm_state>* self,
                        caf::actor conversation, const settings* cfg) {
  auto delay = std::chrono::milliseconds(cfg->stream_delay_ms);
  return {
    [=](const reply_request& x) {
      self->state.reply_id = x.reply_id;
      self->state.out = agent::builtin_agent{cfg->builtin_words}.answer(
        {x.user_text, x.conversation_data});
      self->send(self, next_atom::value);
    },
    [=](next_atom) {
      auto& chunks = self->state.out.chunks;
      if (self->state.next < chunks.size()) {
        self->send(conversation,
                   reply_chunk{self->state.reply_id, std::move(chunks[self->state.next++])});
        // Even unpaced, each chunk is its own event, interleaved with other
        // conversations as tokens from a real upstream would be.
        if (delay.count() > 0 && self->state.next < chunks.size())
          self->delayed_send(self, delay, next_atom::value);
        else
          self->send(self, next_atom::value);
        return;
      }
      self->send(conversation,
                 reply_done{self->state.reply_id, std::move(self->state.out.conversation_data),
                            self->state.out.needs_info,
                            std::move(self->state.out.suggestions)});
      self->quit();
    },
  };
}

} // namespace parley
