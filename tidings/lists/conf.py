"""Settings of the lists app, read from the environment."""

from __future__ import annotations

from tidings.lib.env import env_int

# How long a join or leave confirmation stays valid, and an owner's invitation.
CONFIRM_DAYS = env_int("TIDINGS_LIST_CONFIRM_DAYS", 7)
INVITE_DAYS = env_int("TIDINGS_LIST_INVITE_DAYS", 30)
# Held posts nobody moderated are dropped (and their authors told) after this many days.
HOLD_DAYS = env_int("TIDINGS_LIST_HOLD_DAYS", 14)
