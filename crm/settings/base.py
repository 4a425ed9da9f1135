"""Settings shared by every environment, all read from the environment through crm.env.

local.py, production.py and test.py only override what differs; secrets have no default outside
DEBUG.
"""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm import env

BASE_DIR = env.BASE_DIR
DEBUG = env.env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghij"
SECRET_KEY = env.env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "crm.admin_site.CrmAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "simple_history",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crm.accounts",
    "crm.audit",
    "crm.activity",
    "crm.api",
    "crm.webhooks",
    "customers",
    "mail",
    "sales",
    "service",
    "collaboration",
    "analytics",
    "automation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.replicas.PrimaryAfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crm.accounts.middleware.SessionActivityMiddleware",
    "crm.accounts.middleware.TwoFactorRequiredMiddleware",
    "crm.accounts.middleware.UserPreferencesMiddleware",
    "crm.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.navigation.navigation",
                "collaboration.context_processors.notifications",
            ],
        },
    },
]

# Database: a SQLite file under var/ unless DATABASE_URL names another server.
CONN_MAX_AGE = env.env_int("CONN_MAX_AGE", 60)
if env.DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            env.DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    env.SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.SQLITE_PATH,
            "OPTIONS": {
                # WAL and immediate transactions keep the embedded default usable by the web
                # process and a seeding command at the same time.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# Read replicas (PostgreSQL streaming replicas of the primary): dashboards, reports, exports,
# searches and model training read from them through crm.replicas; everything else, and every
# write, uses the primary.
DATABASE_REPLICA_URLS = env.env_list("DATABASE_REPLICA_URLS", [])
if DATABASE_REPLICA_URLS and not env.DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs DATABASE_URL: replicas of what?")
for _number, _replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    # Named by position: the URL may hold a password.
    try:
        _replica = dj_database_url.parse(
            _replica_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: URL {_number} is not a database URL ({_error})."
        ) from None
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: URL {_number} is {_replica['ENGINE']}, the primary "
            f"{DATABASES['default']['ENGINE']}; a replica is a streaming copy of the primary."
        )
    # The test runner points a replica at the test database instead of creating one.
    DATABASES[f"replica_{_number}"] = {**_replica, "TEST": {"MIRROR": "default"}}
CRM_DATABASE_REPLICAS = [alias for alias in DATABASES if alias.startswith("replica_")]
DATABASE_ROUTERS = ["crm.replicas.ReplicaRouter"]
# After a person saves something, their reads stay on the primary this long, so the page after
# the save shows it even while the replicas are a little behind.
CRM_REPLICA_PIN_SECONDS = env.env_int("CRM_REPLICA_PIN_SECONDS", 10)
# A replica that refused a connection is left alone this long before it is tried again.
CRM_REPLICA_RETRY_SECONDS = env.env_int("CRM_REPLICA_RETRY_SECONDS", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: unset means everything runs inside one process (local-memory cache, in-memory channel
# layer, eager Celery); set means a shared cache, channels-redis and a real broker.
REDIS_URL = env.REDIS_URL
if REDIS_URL:
    CACHES = {
        "default": {
            # Answers like an empty cache while Redis is down, so pages and the API keep working.
            "BACKEND": "crm.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "crm",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A busy room sends every member a frame per message; the default of 100 queued
            # frames per socket drops them under a burst.
            # redis-py times a read out after 5 s, the same 5 s a socket's receive blocks on
            # Redis for: under load the read loses that race and kills the consumer.
            "CONFIG": {
                # Several Redis servers shard the channels and groups between them.
                "hosts": [
                    {"address": address, "socket_timeout": 30, "socket_connect_timeout": 5}
                    for address in env.env_list("CHANNEL_LAYER_REDIS_URLS", []) or [REDIS_URL]
                ],
                "prefix": "crm-channels",
                "capacity": env.env_int("CHANNEL_LAYER_CAPACITY", 1000),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Nothing reads a task's result; asking for one makes every send subscribe to the result store
# first, which with Redis down blocks for twenty seconds and then raises.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_TIME_LIMIT = env.env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_DEFAULT_RETRY_DELAY = 30
# Sending a task to a broker that does not answer is tried four times over about two seconds;
# then crm.queueing tells the caller, which marks its job failed with a message to retry.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The database schedule, sent only by the beat that holds the cluster's leader lock in Redis:
# several beat hosts may run, and each job is still sent once (crm.beat).
CELERY_BEAT_SCHEDULER = "crm.beat:ClusterScheduler"
CRM_BEAT_LOCK_SECONDS = env.env_int("CRM_BEAT_LOCK_SECONDS", 30)
if CRM_BEAT_LOCK_SECONDS < 3:
    # The leader renews every lock/3 seconds at most; under 3 no beat could keep the lock.
    raise ImproperlyConfigured(
        f"CRM_BEAT_LOCK_SECONDS={CRM_BEAT_LOCK_SECONDS} is too short; use 3 or more (30 is usual)."
    )
# Each job's last run is saved as soon as it is sent, so a beat that takes over from one that
# died reads it and does not send the job again.
CELERY_BEAT_SYNC_EVERY = 1
# Queues by kind of work, so each kind can have workers of its own on machines of its own. A
# worker started without --queues takes all of them.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = {name: {} for name in ("default", "imports", "ml", "email", "webhooks")}
CELERY_TASK_ROUTES = {
    "customers.import_customers_task": {"queue": "imports"},
    "customers.customer_export_task": {"queue": "imports"},
    "analytics.*": {"queue": "ml"},
    "mail.*": {"queue": "email"},
    "sales.campaign_mailing_send_batch_task": {"queue": "email"},
    "collaboration.notifications_send_digests_task": {"queue": "email"},
    "webhooks.*": {"queue": "webhooks"},
}
CELERY_TIMEZONE = env.env_str("TIME_ZONE", "UTC")

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user or address is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.env_int("CRM_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.env_str("TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party front-end code is installed by npm from package-lock.json and served from
# node_modules under a vendor/ prefix; nothing third-party is copied into static/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
# Uploaded files: a local folder, or an S3-compatible bucket (AWS, MinIO, Ceph...) that every web
# and worker host shares, when AWS_STORAGE_BUCKET_NAME is set. The credentials are boto3's own
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an instance role).
AWS_STORAGE_BUCKET_NAME = env.env_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env.env_str("AWS_S3_REGION_NAME", "") or None,
            "location": env.env_str("AWS_S3_LOCATION", ""),
            # Files are private: a link is signed and expires, and a second upload of the same
            # name gets a name of its own instead of replacing the first.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
            # A file read from the bucket (an import, an export) is spooled to a temporary file
            # past this size instead of held whole in memory.
            "max_memory_size": env.env_int("AWS_S3_MAX_MEMORY_SIZE", 10 * 1024 * 1024),
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env.env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The admin shows each record's history but cannot revert to it: a revert would write the old
# values straight to the table, past the services that check and record every change.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Sessions live in the database, not in a web process, so every web host behind the load
# balancer knows every signed-in person; the session pages and purges read the same table.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
# Signed-in sessions end after this long without a request (crm.accounts.middleware).
CRM_SESSION_IDLE_MINUTES = env.env_int("CRM_SESSION_IDLE_MINUTES", 60)
SESSION_COOKIE_AGE = env.env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

# Lockout after repeated failed logins, counted per username and per address (django-axes).
AXES_ENABLED = env.env_bool("CRM_LOGIN_LOCKOUT", True)
AXES_FAILURE_LIMIT = env.env_int("CRM_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env.env_int("CRM_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The lockout page in the site's layout, with status 429.
AXES_LOCKOUT_CALLABLE = "crm.accounts.views.login_locked_out"


# Two-factor authentication (TOTP, django-otp): optional for everyone, required of admins and
# staff when this is on.
CRM_REQUIRE_2FA_FOR_ADMINS = env.env_bool("CRM_REQUIRE_2FA_FOR_ADMINS", False)
OTP_TOTP_ISSUER = env.env_str("CRM_2FA_ISSUER", "crm")

# Keys for the encrypted fields (crm.encryption): the first encrypts, all decrypt. Without any,
# one is derived from SECRET_KEY so a laptop works; production settings require real ones.
CRM_FIELD_ENCRYPTION_KEYS = env.env_list("CRM_FIELD_ENCRYPTION_KEYS", [])
if not CRM_FIELD_ENCRYPTION_KEYS:
    import base64
    import hashlib

    CRM_FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error pages and the reports mailed to ADMINS mask encrypted fields and secrets (crm.security).
DEFAULT_EXCEPTION_REPORTER_FILTER = "crm.security.SensitiveDataReporterFilter"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttling.TokenRateThrottle",
        "crm.api.throttling.UserRateThrottle",
        "crm.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.env_str("CRM_API_RATE_TOKEN", "600/minute"),
        "user": env.env_str("CRM_API_RATE_USER", "1200/minute"),
        "anonymous": env.env_str("CRM_API_RATE_ANONYMOUS", "60/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": [
        "crm.api.permissions.ReadOnlyTokenPermission",
        "crm.api.permissions.ModelPermissions",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.CrmAutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "crm API",
    "DESCRIPTION": "REST API of the crm: customers, sales, service, collaboration, analytics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema_hooks.idempotency_header_hook",
        "crm.api.fields.fields_parameters_hook",
        # Last, so it gives examples to whatever the hooks before it added.
        "crm.api.schema_examples.schema_examples_fill",
    ],
    # Choice sets used under the same field name by several serializers get one name each.
    "ENUM_NAME_OVERRIDES": {
        "NotificationKindEnum": "collaboration.models.Notification.Kind",
        "RecordTypeEnum": "collaboration.selectors.chat.DISCUSSION_TYPES",
        "AnalyticsJobStatusEnum": "analytics.models.AnalyticsJob.Status",
        "ModelVersionStatusEnum": "analytics.models.ModelVersion.Status",
        "BuilderFieldSourceEnum": "analytics.api.builder.FIELD_SOURCES",
        "SourceEnum": "customers.models.Customer.Source",
        "StageKindEnum": "sales.models.Stage.Kind",
        "ApiTokenStatusEnum": "crm.accounts.selectors.API_TOKEN_STATUSES",
        "WebhookDeliveryStatusEnum": "crm.webhooks.models.WebhookDelivery.Status",
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "InterfaceLanguageEnum": "crm.accounts.models.INTERFACE_LANGUAGES",
        "CustomerLanguageEnum": "crm.settings.base.LANGUAGES",
        "MatchFieldEnum": "customers.importing.rows.KEY_FIELDS",
        "FieldRuleAccessEnum": "crm.accounts.models.FieldRule.Access",
        "RecordShareAccessEnum": "crm.accounts.models.RecordShare.Access",
        "RuleTriggerEnum": "automation.models.Rule.Trigger",
        "AnalyticsJobTriggerEnum": "analytics.models.ModelVersion.Trigger",
    },
}

# Product settings.
CRM_DEFAULT_PHONE_REGION = env.env_str("CRM_DEFAULT_PHONE_REGION", "CN")
CRM_DEFAULT_CURRENCY = env.env_str("CRM_DEFAULT_CURRENCY", "CNY")
# The team whose queue takes tickets nobody picked yet (the public support form's).
CRM_SUPPORT_TEAM = env.env_str("CRM_SUPPORT_TEAM", "Service")
# Where customers reach this CRM, for links in emails sent outside a request (survey links).
CRM_SITE_URL = env.env_str("CRM_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The largest file anyone may attach to a record or a chat message (crm.uploads).
CRM_UPLOAD_MAX_BYTES = env.env_int("CRM_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
# API: how long an Idempotency-Key's first response is kept for retries.
CRM_IDEMPOTENCY_TTL_HOURS = env.env_int("CRM_IDEMPOTENCY_TTL_HOURS", 24)
# Webhooks: attempts per delivery (with exponential backoff), and how many deliveries in a row may
# fail before a subscription is switched off.
CRM_WEBHOOK_MAX_ATTEMPTS = env.env_int("CRM_WEBHOOK_MAX_ATTEMPTS", 6)
CRM_WEBHOOK_DISABLE_AFTER = env.env_int("CRM_WEBHOOK_DISABLE_AFTER", 10)
CRM_WEBHOOK_TIMEOUT_SECONDS = env.env_int("CRM_WEBHOOK_TIMEOUT_SECONDS", 10)
# How many days the delivery log keeps finished deliveries.
CRM_WEBHOOK_LOG_DAYS = env.env_int("CRM_WEBHOOK_LOG_DAYS", 30)

# Email. Outgoing mail goes through EMAIL_BACKEND: SMTP by default, or any django-anymail
# provider (EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend and its settings as JSON in
# CRM_ANYMAIL, e.g. {"MAILGUN_API_KEY": "..."}). Providers post inbound mail and delivery events
# to /mail/anymail/<provider>/inbound/ and .../tracking/, with CRM_ANYMAIL_WEBHOOK_SECRET
# ("user:password") as HTTP basic auth.
ANYMAIL = {
    **env.env_json_object("CRM_ANYMAIL"),
    "WEBHOOK_SECRET": env.env_str("CRM_ANYMAIL_WEBHOOK_SECRET", "") or None,
}
# The domain of the Message-IDs the CRM writes; by default that of DEFAULT_FROM_EMAIL.
CRM_EMAIL_DOMAIN = env.env_str("CRM_EMAIL_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2])
# Attempts to hand a message to the backend (with exponential backoff) before it is marked
# failed.
CRM_EMAIL_SEND_ATTEMPTS = env.env_int("CRM_EMAIL_SEND_ATTEMPTS", 5)
# Received messages larger than this are set aside, not taken in.
CRM_EMAIL_MAX_INBOUND_BYTES = env.env_int("CRM_EMAIL_MAX_INBOUND_BYTES", 30 * 1024 * 1024)
# Campaign mail: recipients per batch (one task and one SMTP connection each), and whether
# opens and clicks may be tracked at all (each mailing can also switch it off).
CRM_EMAIL_CAMPAIGN_BATCH_SIZE = env.env_int("CRM_EMAIL_CAMPAIGN_BATCH_SIZE", 200)
CRM_EMAIL_TRACKING = env.env_bool("CRM_EMAIL_TRACKING", True)
# How often the beat polls the IMAP mailboxes, in minutes.
CRM_EMAIL_POLL_MINUTES = env.env_int("CRM_EMAIL_POLL_MINUTES", 1)

# Workflow rules: attempts at a failing action (with exponential backoff from the base delay)
# before the run is reported failed; how many rules may set one another off in a row; how many
# records one pass of a date or schedule rule takes (the rest wait for the next pass).
CRM_AUTOMATION_ACTION_ATTEMPTS = env.env_int("CRM_AUTOMATION_ACTION_ATTEMPTS", 4)
CRM_AUTOMATION_RETRY_SECONDS = env.env_int("CRM_AUTOMATION_RETRY_SECONDS", 60)
CRM_AUTOMATION_MAX_CHAIN = env.env_int("CRM_AUTOMATION_MAX_CHAIN", 5)
CRM_AUTOMATION_BATCH_SIZE = env.env_int("CRM_AUTOMATION_BATCH_SIZE", 500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
