"""Live agents: the handoff inbox, taking a conversation, relaying messages through Rasa."""
