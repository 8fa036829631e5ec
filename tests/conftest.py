"""Suite-wide fixtures live in the fakes, the harness and the loopback guard; registered here."""

pytest_plugins = [
    "tests.offline",
    "tests.postgres",
    "tests.engines",
    "tests.fakes.bot_api",
    "tests.fakes.feed_server",
    "tests.fakes.http_proxy",
    "tests.harness",
]
