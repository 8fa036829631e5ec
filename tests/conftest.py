"""Fixtures shared by the whole suite live in the fakes and the harness; they are registered here."""

pytest_plugins = ["tests.fakes.bot_api", "tests.fakes.feed_server", "tests.harness"]
