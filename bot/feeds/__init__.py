"""The feed edge of the pipeline: fetch bytes safely, parse them, find feeds on web pages."""
