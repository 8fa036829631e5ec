"""Loopback feed server (being written)."""
