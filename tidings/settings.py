"""Tidings settings, all read from the environment (see README "Configuration")."""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url

from tidings.lib.env import env_bool, env_int, env_str, private_dir, secret

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("TIDINGS_DATA_DIR", str(Path.cwd() / "data"))).resolve()
# Under pytest-xdist each test process keeps its own data: its SQLite test file, keys, uploads
# (not the processes a test starts, which get the data dir they are given).
if os.environ.get("PYTEST_XDIST_WORKER") and "pytest" in sys.modules:
    DATA_DIR = DATA_DIR / os.environ["PYTEST_XDIST_WORKER"]

SECRET_KEY = secret("TIDINGS_SECRET_KEY", DATA_DIR, "secret_key")
DEBUG = env_bool("TIDINGS_DEBUG", False)

BASE_URL = env_str("TIDINGS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
MAIL_DOMAIN = env_str("TIDINGS_MAIL_DOMAIN", "tidings.localhost").lower()
LISTS_DOMAIN = env_str("TIDINGS_LISTS_DOMAIN", f"lists.{MAIL_DOMAIN}").lower()

# Where outbound mail goes: smtp://user:password@host:port. Empty: Tidings' own SMTP server,
# which delivers list mail locally and captures everything else in the outbox.
SMTP_RELAY = env_str("TIDINGS_SMTP_RELAY", "")
SMTP_LISTEN = env_str("TIDINGS_SMTP_LISTEN", "127.0.0.1:2525")
# Text messages: the SMS gateway, smpp://system_id:password@host:port (SMPP 3.4, the carriers'
# protocol; smpps:// over TLS) or https://user:token@api.example/messages (an HTTP gateway in the
# style of the common SMS APIs). Empty: texts go over SMPP to Tidings' own SMSC on SMSC_LISTEN,
# which keeps them in the captured outbox (the console's Text messages page).
SMS_GATEWAY = env_str("TIDINGS_SMS_GATEWAY", "")
# Mobile numbers written without a country code are read as numbers of this region (ISO 3166).
PHONE_REGION = env_str("TIDINGS_PHONE_REGION", "US").upper()
SMSC_LISTEN = env_str("TIDINGS_SMSC_LISTEN", "127.0.0.1:2775")
# Texts in flight on one SMPP session before their answers are read (the window).
SMS_WINDOW = env_int("TIDINGS_SMS_WINDOW", 64)
# STARTTLS on Tidings' SMTP server: a PEM certificate (chain) and its key; empty: no STARTTLS.
SMTP_TLS_CERT = env_str("TIDINGS_SMTP_TLS_CERT", "")
SMTP_TLS_KEY = env_str("TIDINGS_SMTP_TLS_KEY", "")
# With a certificate, AUTH (the capture login) is refused before STARTTLS unless this is false.
SMTP_REQUIRE_TLS_FOR_AUTH = env_bool("TIDINGS_SMTP_REQUIRE_TLS_FOR_AUTH", True)
# Password with which the delivery worker authenticates to Tidings' own SMTP server to have
# mail for other domains captured; generated once, never an open relay.
SMTP_CAPTURE_SECRET = secret("TIDINGS_SMTP_CAPTURE_SECRET", DATA_DIR, "smtp_capture_secret")
SMTP_MAX_MESSAGE_SIZE = env_int("TIDINGS_SMTP_MAX_MESSAGE_SIZE", 25 * 1024 * 1024)

ALLOWED_HOSTS = [h for h in env_str("TIDINGS_ALLOWED_HOSTS", "").split(",") if h]
ALLOWED_HOSTS += [urlsplit(BASE_URL).hostname or "localhost", "localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(BASE_URL).scheme}://{urlsplit(BASE_URL).netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tidings.accounts",
    "tidings.topics",
    "tidings.subscribers",
    "tidings.bulletins",
    "tidings.delivery",
    "tidings.inbound",
    "tidings.lists",
    "tidings.archive",
    "tidings.ops",
    "tidings.console",
    "tidings.feeds",
    "tidings.api",
    "tidings.tracking",
    "tidings.insights",
    "tidings.texts",
]

MIDDLEWARE = [
    "tidings.ops.views.RequestMetrics",
    # Outermost after the metrics: it stores what anonymous readers get of the public pages.
    "tidings.lib.pagecache.PageCache",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Public pages and mail in the reader's language (tidings.lib.languages).
    "tidings.lib.languages.Language",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Rendered public pages (lib.pagecache) and nothing else. Embedded: files in the data dir, shared
# by the web processes of one machine. TIDINGS_CACHE_URL=redis://host:6379/0 shares them between
# machines (and is faster). The cache is optional: a Redis that does not answer within
# TIDINGS_CACHE_TIMEOUT_MS costs one request that much, then is left alone a few seconds
# while pages are served uncached (lib.pagecache).
CACHE_URL = env_str("TIDINGS_CACHE_URL", "")
CACHE_TIMEOUT = env_int("TIDINGS_CACHE_TIMEOUT_MS", 250) / 1000
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT,
                "socket_timeout": CACHE_TIMEOUT,
            },
        }
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    )
}

ROOT_URLCONF = "tidings.urls"
WSGI_APPLICATION = "tidings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tidings.console.context.console",
            ],
            "builtins": ["tidings.lib.when"],
        },
    },
]

# Connections are kept a minute and checked before reuse: a new one per request cost the
# uncached pages half their speed (bench/web.py: search 410 → 835 req/s on SQLite).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tidings.sqlite3'}"),
        conn_max_age=env_int("TIDINGS_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    private_dir(DATA_DIR)
    # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database
    # file's permissions, so no other local user can read subscribers or sessions.
    for _name in (Path(DATABASES["default"]["NAME"]), DATA_DIR / "test.sqlite3"):
        os.close(os.open(_name, os.O_CREAT | os.O_WRONLY, 0o600))
        if _name.stat().st_mode & 0o077:
            _name.chmod(0o600)
    DATABASES["default"]["OPTIONS"] = {
        # Several processes (web, SMTP server, workers) share the file: WAL lets readers run
        # beside one writer, IMMEDIATE takes the write lock at BEGIN so a claim never has to
        # upgrade a read lock (the cause of "database is locked" under concurrency).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests use a file too, so threads and processes in a test see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages of public pages and of the mail subscribers and list members receive, each named
# in itself for the choosers. Catalogs: tidings/locale/<code>/LC_MESSAGES/django.po, compiled
# into the data dir when a process starts (tidings.lib.languages.compile_catalogs).
LANGUAGES = [("en", "English"), ("es", "Español"), ("sw", "Kiswahili")]
LOCALE_PATHS = [DATA_DIR / "locale"]
# Date formats of the languages Django has none for (tidings/formats/<code>/formats.py).
FORMAT_MODULE_PATH = ["tidings.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


def _static_version() -> str:
    """A digest of every static file Tidings ships (and Django's version, for the admin's): it
    names the static URL, so a file can be cached for a year and a new release gets new URLs."""
    import django

    digest = hashlib.sha256(django.__version__.encode())
    for path in sorted(BASE_DIR.glob("**/static/**/*")):
        if path.is_file():
            digest.update(path.relative_to(BASE_DIR).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


STATIC_URL = f"static/{_static_version()}/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Django serves them straight from the apps' static folders (no collectstatic step for tests or
# `runserver`); `tidings web` collects them into STATIC_ROOT and granian serves them from there.
WHITENOISE_USE_FINDERS = True
STATIC_MAX_AGE = 365 * 24 * 3600
WHITENOISE_MAX_AGE = STATIC_MAX_AGE

LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"

# How long signed links in mail stay valid.
UNSUBSCRIBE_LINK_MAX_AGE = env_int("TIDINGS_UNSUBSCRIBE_LINK_DAYS", 180) * 86400

# Delivery worker tuning: rows per claim, how long a claim lasts, attempts before giving up,
# and open SMTP connections per worker process.
SMTP_CONNECTIONS = env_int("TIDINGS_SMTP_CONNECTIONS", 8)
# Messages per second per worker, by recipient domain and "*" for the relay as a whole,
# e.g. "gmail.com=50,*=2000". Mail over a limit waits a moment; it costs no attempt.
RATE_LIMITS = env_str("TIDINGS_RATE_LIMITS", "")
DELIVERY_CHUNK_SIZE = env_int("TIDINGS_DELIVERY_CHUNK_SIZE", 500)
DELIVERY_LEASE_SECONDS = env_int("TIDINGS_DELIVERY_LEASE_SECONDS", 300)
DELIVERY_MAX_ATTEMPTS = env_int("TIDINGS_DELIVERY_MAX_ATTEMPTS", 8)
# A recipient whose server still answers 4xx this long after the send began fails for good.
DELIVERY_MAX_AGE_SECONDS = env_int("TIDINGS_DELIVERY_MAX_AGE_HOURS", 72) * 3600

# DKIM signing of outgoing mail: a PEM private key, its selector and the signing domain.
DKIM_KEY_FILE = env_str("TIDINGS_DKIM_KEY_FILE", "")
DKIM_SELECTOR = env_str("TIDINGS_DKIM_SELECTOR", "tidings")
DKIM_DOMAIN = env_str("TIDINGS_DKIM_DOMAIN", MAIL_DOMAIN)
# A folder of `<domain>.pem` private keys: each message is signed for the domain it speaks for.
DKIM_KEY_DIR = env_str("TIDINGS_DKIM_KEY_DIR", "")

# Every logger goes to the root's handlers: Tidings' own lines, a 500's traceback (django.request),
# the SMTP server's (aiosmtpd's mail.log), asyncio's; each error with a traceback is also counted
# for /healthz (lib.logs.ErrorCount, files in the data dir).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "tidings.lib.logs.JsonFormatter"},
    },
    # TIDINGS_LOG_FORMAT=json: one JSON object a line (delivery lines carry send and delivery).
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env_str("TIDINGS_LOG_FORMAT", "plain") == "json" else "plain",
        },
        "errors": {
            "class": "tidings.lib.logs.ErrorCount",
            "level": "ERROR",
            "folder": str(DATA_DIR / "errors"),
        },
    },
    "root": {"handlers": ["console", "errors"], "level": "WARNING"},
    "loggers": {
        "tidings": {"level": env_str("TIDINGS_LOG_LEVEL", "INFO")},
        # Django's own handlers (a console for DEBUG only, mail to ADMINS) give way to the root's.
        "django": {"handlers": [], "level": "WARNING"},
        # A 500 and its traceback; not a line per 404.
        "django.request": {"level": "ERROR"},
    },
}

# --- subscribers ---
# Largest CSV the console accepts for an import (bigger files: `tidings import-subscribers`).
IMPORT_MAX_BYTES = env_int("TIDINGS_IMPORT_MAX_BYTES", 200_000_000)
# A running import whose progress has not moved for this long is claimed by another worker.
IMPORT_STALE_SECONDS = env_int("TIDINGS_IMPORT_STALE_SECONDS", 600)
# PostgreSQL imports lock what they reference once a chunk and skip the per-row foreign-key
# triggers when the database role may (see importer._skip_fk_checks); false keeps the triggers.
IMPORT_SKIP_FK_CHECKS = env_bool("TIDINGS_IMPORT_SKIP_FK_CHECKS", True)
# Rows a page of the console's subscriber and suppression lists.
CONSOLE_PAGE_SIZE = env_int("TIDINGS_CONSOLE_PAGE_SIZE", 50)
# Public subscribe form (and list join and leave): requests per client network (an IPv4 address,
# an IPv6 /64) per hour (429 beyond), and per address per hour (silently dropped beyond, so
# that the answer never tells whether an address is known).
SUBSCRIBE_RATE_PER_IP = env_int("TIDINGS_SUBSCRIBE_RATE_PER_IP", 20)
SUBSCRIBE_RATE_PER_ADDRESS = env_int("TIDINGS_SUBSCRIBE_RATE_PER_ADDRESS", 5)
# At most one confirmation mail per address per this many seconds.
CONFIRM_MAIL_INTERVAL = env_int("TIDINGS_CONFIRM_MAIL_INTERVAL", 900)
# Temporary bounces: this many within the window suppress the address.
BOUNCE_SOFT_THRESHOLD = env_int("TIDINGS_BOUNCE_SOFT_THRESHOLD", 3)
BOUNCE_SOFT_WINDOW_DAYS = env_int("TIDINGS_BOUNCE_SOFT_WINDOW_DAYS", 14)

# --- feeds and page watches ---
# Host names (exact, case-insensitive) that may resolve to private or loopback addresses:
# an operator's own intranet feed server. Comma-separated. Everything else private is refused.
FEEDS_ALLOW_HOSTS = {
    h.strip().lower().rstrip(".")
    for h in env_str("TIDINGS_FEEDS_ALLOW_HOSTS", "").split(",")
    if h.strip()
}
# A response longer than this many bytes is refused (reading stops there).
FEEDS_MAX_BYTES = env_int("TIDINGS_FEEDS_MAX_BYTES", 5 * 1024 * 1024)
# Seconds for connecting and for each read.
FEEDS_TIMEOUT = env_int("TIDINGS_FEEDS_TIMEOUT", 15)
# Seconds a whole fetch may take, redirects and all, however the server paces its bytes (one
# byte every few seconds would otherwise hold a poll for days); the connection is cut then.
FEEDS_DEADLINE = env_int("TIDINGS_FEEDS_DEADLINE", 30)
# More new items than this in one poll of an auto-send feed are held as drafts for review.
FEEDS_MAX_AUTO_SEND = env_int("TIDINGS_FEEDS_MAX_AUTO_SEND", 5)
# Seconds between two polls of the same watch by the worker's periodic job.
FEEDS_POLL_EVERY = env_int("TIDINGS_FEEDS_POLL_EVERY", 600)
FEEDS_USER_AGENT = env_str("TIDINGS_FEEDS_USER_AGENT", "Tidings feed watcher")

# --- the SMTP server's limits ---
# Recipients one message may name (452 past it); RFC 5321 asks servers to take at least 100.
SMTP_MAX_RECIPIENTS = env_int("TIDINGS_SMTP_MAX_RECIPIENTS", 100)
# Open connections from one client address (421 past it); Postfix's default is 50 too. The
# delivery worker relays captured mail over TIDINGS_SMTP_CONNECTIONS connections per process.
SMTP_MAX_CONNECTIONS_PER_IP = env_int("TIDINGS_SMTP_MAX_CONNECTIONS_PER_IP", 50)
# Open connections in all (421 past it): many addresses each under their own limit can still
# not exhaust the server's file handles.
SMTP_MAX_CONNECTIONS = env_int("TIDINGS_SMTP_MAX_CONNECTIONS", 1000)
# Transactions one envelope sender may start per minute (450 past it; 0: no limit). Sessions
# logged in with the capture secret (Tidings' own worker) are not counted.
SMTP_SENDER_MESSAGES_PER_MINUTE = env_int("TIDINGS_SMTP_SENDER_MESSAGES_PER_MINUTE", 120)
# Transactions one client network (an IPv4 address, an IPv6 /64) may start per minute (451
# past it; 0: no limit), whatever envelope senders it names. The capture login is not counted,
# nor are the TIDINGS_SMTP_UNLIMITED_CLIENTS networks: the MX in front of Tidings, which hands
# over all inbound mail from one address.
SMTP_CLIENT_MESSAGES_PER_MINUTE = env_int("TIDINGS_SMTP_CLIENT_MESSAGES_PER_MINUTE", 300)
SMTP_UNLIMITED_CLIENTS = env_str("TIDINGS_SMTP_UNLIMITED_CLIENTS", "127.0.0.0/8, ::1")
# Most messages committed in one transaction (group commit).
SMTP_COMMIT_BATCH = env_int("TIDINGS_SMTP_COMMIT_BATCH", 500)

# --- archive ---
# An mbox message larger than this is not imported (it is reported): a 200 MB message would
# otherwise take gigabytes to parse and store.
ARCHIVE_IMPORT_MAX_MESSAGE_BYTES = env_int("TIDINGS_ARCHIVE_IMPORT_MAX_MESSAGE_BYTES", 25 * 2**20)
# A post's page shows at most this many characters of its text (and of its HTML); the rest is
# in the raw message, linked from the page.
ARCHIVE_MAX_SHOWN_CHARS = env_int("TIDINGS_ARCHIVE_MAX_SHOWN_CHARS", 200_000)
# Security headers (Content-Security-Policy, nosniff) on every page under /lists/, /bulletins/
# and /console/.
MIDDLEWARE.append("tidings.lib.security.SecurityHeaders")
# Comments one IP address may post in a window before it is asked to wait.
ARCHIVE_COMMENT_RATE_LIMIT = env_int("TIDINGS_COMMENT_RATE_LIMIT", 5)
ARCHIVE_COMMENT_RATE_SECONDS = env_int("TIDINGS_COMMENT_RATE_SECONDS", 600)
# Tell the author of a post (received by the list, not imported) about new comments.
ARCHIVE_NOTIFY_AUTHORS = env_bool("TIDINGS_COMMENT_NOTIFY_AUTHORS", True)

# --- DNS ---
# The resolvers to ask for DKIM keys, SPF and DMARC ("ip" or "ip:port", comma-separated; empty:
# the system's), and the seconds one lookup may take in all.
DNS_SERVERS = env_str("TIDINGS_DNS_SERVERS", "")
DNS_TIMEOUT = env_int("TIDINGS_DNS_TIMEOUT", 3)

# --- lists ---
# How long a join or leave confirmation stays valid, and an owner's invitation.
LIST_CONFIRM_DAYS = env_int("TIDINGS_LIST_CONFIRM_DAYS", 7)
LIST_INVITE_DAYS = env_int("TIDINGS_LIST_INVITE_DAYS", 30)
# Held posts nobody moderated are dropped (and their authors told) after this many days.
LIST_HOLD_DAYS = env_int("TIDINGS_LIST_HOLD_DAYS", 14)
# Seconds to wait for a DMARC policy lookup (_dmarc.<domain> TXT) before relaying unchanged.
LISTS_DMARC_DNS_TIMEOUT = env_int("TIDINGS_LISTS_DMARC_DNS_TIMEOUT", 3)
# Parsing limits of received mail: a message nested deeper or with more parts than this is held
# (a list post) or kept as malformed, not parsed further. The raw bytes are checked before
# parsing: more multipart headers than LIST_MAX_MULTIPARTS and the message is not parsed at
# all (Python's parser slows and recurses on deep nesting).
LIST_MAX_MIME_DEPTH = env_int("TIDINGS_LIST_MAX_MIME_DEPTH", 20)
LIST_MAX_MIME_PARTS = env_int("TIDINGS_LIST_MAX_MIME_PARTS", 500)
LIST_MAX_MULTIPARTS = env_int("TIDINGS_LIST_MAX_MULTIPARTS", 100)

# --- health and metrics ---
# /metrics answers these networks (comma-separated) without a token, and anyone with
# `Authorization: Bearer <TIDINGS_METRICS_TOKEN>` (empty: no token is accepted).
METRICS_ALLOW = env_str("TIDINGS_METRICS_ALLOW", "127.0.0.0/8, ::1")
METRICS_TOKEN = env_str("TIDINGS_METRICS_TOKEN", "")
# /healthz fails when no worker has reported for this long, or a received message has waited
# this long to be routed.
HEALTH_WORKER_SILENCE_SECONDS = env_int("TIDINGS_HEALTH_WORKER_SILENCE_SECONDS", 60)
HEALTH_MAX_WAITING_SECONDS = env_int("TIDINGS_HEALTH_MAX_WAITING_SECONDS", 300)

# --- security of the web tier ---
# Served over https (TIDINGS_BASE_URL says so): cookies only over TLS, and HSTS. Behind a
# reverse proxy that terminates TLS, name the header it sets (e.g. X-Forwarded-Proto) so Django
# knows a request came over https; never set it without such a proxy (clients could fake it).
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("TIDINGS_HSTS_SECONDS", 365 * 86400 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TIDINGS_HSTS_INCLUDE_SUBDOMAINS", False)
_PROXY_SSL_HEADER = env_str("TIDINGS_PROXY_SSL_HEADER", "")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (f"HTTP_{_PROXY_SSL_HEADER.upper().replace('-', '_')}", "https")
SESSION_COOKIE_HTTPONLY = True

# Console and admin logins: after TIDINGS_LOGIN_FAILURE_LIMIT failures from one client address,
# that address waits TIDINGS_LOGIN_COOLOFF_MINUTES (django-axes; 429 with a page saying so).
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("TIDINGS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TIDINGS_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
# The socket's address, as every other limit reads it (X-Forwarded-For is the client's to fake).
AXES_CLIENT_IP_CALLABLE = "tidings.lib.web.client_ip"
# The name a failed login is recorded under, cut to the record's column (a long one was a 500).
AXES_USERNAME_CALLABLE = "tidings.lib.web.login_username"

# API requests one token may make per minute (429 with Retry-After beyond; 0: no limit).
API_RATE_PER_MINUTE = env_int("TIDINGS_API_RATE_PER_MINUTE", 600)
