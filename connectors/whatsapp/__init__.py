"""WhatsApp Cloud API channel.

``channel.WhatsAppInput`` is the Rasa input channel (imports Rasa: load it only inside
the Rasa server). The other modules are plain Python: settings, webhook parsing and
signature checks, rendering of bot messages, and the Graph API client.
"""
