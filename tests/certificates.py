"""Throwaway TLS certificates made with openssl for the test that needs one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def self_signed(folder: Path, name: str, alt_names: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (alt_names e.g. "DNS:x.test,IP:127.0.0.1") valid
    for a day, and its key; skips the test where openssl is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"),
            *("-addext", f"subjectAltName={alt_names}"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
