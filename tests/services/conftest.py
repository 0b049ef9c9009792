"""The write path's fixtures (`write_path`, `write_settings`) for this directory."""

from fixtures.writepath import *  # noqa: F403
