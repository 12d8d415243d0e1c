"""Small helpers that read settings from the environment, refusing what they can't parse."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


class EmptySecret(ValueError):
    """A secret that is set but empty: refusing it beats accepting an empty password."""


def private_dir(path: Path) -> Path:
    """Create path if needed and make it readable by its owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _checked(name: str, value: str, where: str) -> str:
    if not value:
        raise EmptySecret(f"{name} is empty ({where}); set it, or delete the file to generate one")
    return value


def secret(name: str, data_dir: Path, filename: str) -> str:
    """Return a secret from NAME, from the file named by NAME_FILE, or generated once on disk.

    The generated file appears whole or not at all: it is written under a temporary name and
    linked into place, and of several processes starting at once the first link wins while
    the others read the winner's file. No process ever sees it empty; an empty secret (set so,
    or a file emptied since) is refused.
    """
    if name in os.environ:
        return _checked(name, os.environ[name], "from the environment")
    if os.environ.get(f"{name}_FILE"):
        path = Path(os.environ[f"{name}_FILE"])
        return _checked(name, path.read_text().strip(), str(path))
    path = data_dir / filename
    try:
        return _checked(name, path.read_text().strip(), str(path))
    except FileNotFoundError:
        pass
    private_dir(data_dir)
    fd, temporary = tempfile.mkstemp(prefix=f".{filename}.", dir=data_dir)  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # atomic, and never replaces a secret already there
    finally:
        os.unlink(temporary)
    return _checked(name, path.read_text().strip(), str(path))
