"""Fakes at the network edge: a strict Telegram Bot API server and a feed server."""
