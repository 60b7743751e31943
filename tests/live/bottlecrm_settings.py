"""BottleCRM's settings for a local test server: SQLite instead of PostgreSQL, Celery in memory."""

import os

from crm.settings import *  # noqa: F403  # BottleCRM's own settings, then these overrides

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BOTTLECRM_DB"]}}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True
