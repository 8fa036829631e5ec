"""Strict fake Telegram Bot API server (being written)."""
