"""Helpers shared by the Telegram and WhatsApp channels.

Nothing here imports Rasa, Sanic or python-telegram-bot: these modules are plain
Python so that the test suite (Python 3.11) can exercise them directly, while the
channels that use them run inside the Rasa server (Python 3.10).
"""
