"""Telegram channel, built on python-telegram-bot.

``channel.TelegramInput`` is the Rasa input channel (imports Rasa: load it only inside
the Rasa server). ``settings`` and ``render`` are plain Python; ``bot`` and ``updates``
need python-telegram-bot (installed in the Rasa environment). ``setup_webhook`` and
``polling`` are the console commands, run with the Rasa environment's Python.
"""
