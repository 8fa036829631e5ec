"""Suite-wide fixtures live in the fakes and the harness; they are registered here."""

pytest_plugins = ["tests.fakes.bot_api", "tests.fakes.feed_server", "tests.harness"]
