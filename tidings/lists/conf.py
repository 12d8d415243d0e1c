"""Settings of the lists app, read from the environment."""

from __future__ import annotations

from tidings.lib.env import env_int

# How long a join or leave confirmation stays valid, and an owner's invitation.
CONFIRM_DAYS = env_int("TIDINGS_LIST_CONFIRM_DAYS", 7)
INVITE_DAYS = env_int("TIDINGS_LIST_INVITE_DAYS", 30)
# Held posts nobody moderated are dropped (and their authors told) after this many days.
HOLD_DAYS = env_int("TIDINGS_LIST_HOLD_DAYS", 14)
# Parsing limits: a post nested deeper or with more parts than this is held, not parsed further.
# (the raw bytes are checked before parsing: more multipart headers than MAX_MULTIPARTS means
# the message is not parsed at all; Python's parser slows and recurses on deep nesting).
MAX_MIME_DEPTH = env_int("TIDINGS_LIST_MAX_MIME_DEPTH", 20)
MAX_MIME_PARTS = env_int("TIDINGS_LIST_MAX_MIME_PARTS", 500)
MAX_MULTIPARTS = env_int("TIDINGS_LIST_MAX_MULTIPARTS", 100)
