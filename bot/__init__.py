"""newsrelay: a Telegram news relay for RSS, Atom and JSON feeds."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/newsrelay/newsrelay"
