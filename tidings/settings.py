"""Tidings settings, all read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from tidings.lib.env import env_bool, env_int, env_str, private_dir, secret

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("TIDINGS_DATA_DIR", str(Path.cwd() / "data"))).resolve()

SECRET_KEY = secret("TIDINGS_SECRET_KEY", DATA_DIR, "secret_key")
DEBUG = env_bool("TIDINGS_DEBUG", False)

BASE_URL = env_str("TIDINGS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
MAIL_DOMAIN = env_str("TIDINGS_MAIL_DOMAIN", "tidings.localhost").lower()
LISTS_DOMAIN = env_str("TIDINGS_LISTS_DOMAIN", f"lists.{MAIL_DOMAIN}").lower()

# Where outbound mail goes: smtp://user:password@host:port. Empty: Tidings' own SMTP server,
# which delivers list mail locally and captures everything else in the outbox.
SMTP_RELAY = env_str("TIDINGS_SMTP_RELAY", "")
SMTP_LISTEN = env_str("TIDINGS_SMTP_LISTEN", "127.0.0.1:2525")
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tidings.sqlite3'}"),
        conn_max_age=env_int("TIDINGS_DB_CONN_MAX_AGE", 0),
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the apps' static folders: no collectstatic step before `tidings serve`.
WHITENOISE_USE_FINDERS = True

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "tidings": {"handlers": ["console"], "level": env_str("TIDINGS_LOG_LEVEL", "INFO")}
    },
}

# --- subscribers ---
# Public subscribe form: requests per client IP per hour (429 beyond), and per address per hour
# (silently dropped beyond, so that the answer never tells whether an address is known).
SUBSCRIBE_RATE_PER_IP = env_int("TIDINGS_SUBSCRIBE_RATE_PER_IP", 20)
SUBSCRIBE_RATE_PER_ADDRESS = env_int("TIDINGS_SUBSCRIBE_RATE_PER_ADDRESS", 5)
# At most one confirmation mail per address per this many seconds.
CONFIRM_MAIL_INTERVAL = env_int("TIDINGS_CONFIRM_MAIL_INTERVAL", 900)
# Temporary bounces: this many within the window suppress the address.
BOUNCE_SOFT_THRESHOLD = env_int("TIDINGS_BOUNCE_SOFT_THRESHOLD", 3)
BOUNCE_SOFT_WINDOW_DAYS = env_int("TIDINGS_BOUNCE_SOFT_WINDOW_DAYS", 14)

# --- archive ---
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
# Seconds to wait for a DMARC policy lookup (_dmarc.<domain> TXT) before relaying unchanged.
LISTS_DMARC_DNS_TIMEOUT = env_int("TIDINGS_LISTS_DMARC_DNS_TIMEOUT", 3)
# Parsing limits of received mail: a message nested deeper or with more parts than this is held
# (a list post) or kept as malformed, not parsed further. The raw bytes are checked before
# parsing: more multipart headers than LIST_MAX_MULTIPARTS and the message is not parsed at
# all (Python's parser slows and recurses on deep nesting).
LIST_MAX_MIME_DEPTH = env_int("TIDINGS_LIST_MAX_MIME_DEPTH", 20)
LIST_MAX_MIME_PARTS = env_int("TIDINGS_LIST_MAX_MIME_PARTS", 500)
LIST_MAX_MULTIPARTS = env_int("TIDINGS_LIST_MAX_MULTIPARTS", 100)

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

# API requests one token may make per minute (429 with Retry-After beyond; 0: no limit).
API_RATE_PER_MINUTE = env_int("TIDINGS_API_RATE_PER_MINUTE", 600)
