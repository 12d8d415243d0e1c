"""Settings of the feed and page watcher, read from the environment."""

from __future__ import annotations

from tidings.lib.env import env_int, env_str

# Host names (exact, case-insensitive) that may resolve to private or loopback addresses:
# an operator's own intranet feed server. Comma-separated. Everything else private is refused.
ALLOW_HOSTS = {
    h.strip().lower().rstrip(".")
    for h in env_str("TIDINGS_FEEDS_ALLOW_HOSTS", "").split(",")
    if h.strip()
}
# A response longer than this many bytes is refused (reading stops there).
MAX_BYTES = env_int("TIDINGS_FEEDS_MAX_BYTES", 5 * 1024 * 1024)
# Seconds for connecting and for each read.
TIMEOUT = env_int("TIDINGS_FEEDS_TIMEOUT", 15)
# Seconds a whole fetch may take, redirects and all, however the server paces its bytes (one
# byte every few seconds would otherwise hold a poll for days); the connection is cut then.
DEADLINE = env_int("TIDINGS_FEEDS_DEADLINE", 30)
MAX_REDIRECTS = 5
# More new items than this in one poll of an auto-send feed are held as drafts for review.
MAX_AUTO_SEND = env_int("TIDINGS_FEEDS_MAX_AUTO_SEND", 5)
# Seconds between two polls of the same watch by the worker's periodic job.
POLL_EVERY = env_int("TIDINGS_FEEDS_POLL_EVERY", 600)
USER_AGENT = env_str("TIDINGS_FEEDS_USER_AGENT", "Tidings feed watcher")
