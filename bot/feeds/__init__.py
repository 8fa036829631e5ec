"""The feed edge of the pipeline: fetch bytes safely, parse them, find feeds on web pages.

``failure`` classifies whatever goes wrong on the way into one ``FetchErrorKind``;
``load`` reads a URL someone typed into the feed it means. Inside ``parse``:
``encoding`` turns bytes into text, ``dates`` reads entry dates, ``identity`` keys
entries stably across fetches and names articles for the per-chat dedupe.
"""
