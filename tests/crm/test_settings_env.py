"""Settings come from the environment through crm.env; production refuses half a configuration."""

import json
import os
import secrets
import string
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm import env
from crm.encryption import encryption_key_generate

REPO_ROOT = env.BASE_DIR
# Set by crm.settings.test in this process, or by whoever runs the suite; a subprocess starts
# without them unless a test passes them.
SETTINGS_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "CRM_FIELD_ENCRYPTION_KEYS",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DATABASE_REPLICA_URLS",
    "CHANNEL_LAYER_REDIS_URLS",
    "AWS_STORAGE_BUCKET_NAME",
}


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " true "])
def test_env_bool_accepts_true_variants(monkeypatch, value):
    monkeypatch.setenv("CRM_TEST_FLAG", value)
    assert env.env_bool("CRM_TEST_FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF", ""])
def test_env_bool_accepts_false_variants(monkeypatch, value):
    monkeypatch.setenv("CRM_TEST_FLAG", value)
    assert env.env_bool("CRM_TEST_FLAG", True) is False


def test_env_bool_falls_back_to_the_default(monkeypatch):
    monkeypatch.delenv("CRM_TEST_FLAG", raising=False)
    assert env.env_bool("CRM_TEST_FLAG", True) is True
    assert env.env_bool("CRM_TEST_FLAG", False) is False


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_env_bool_rejects_garbage_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("CRM_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="CRM_TEST_FLAG"):
        env.env_bool("CRM_TEST_FLAG", False)


def test_env_int(monkeypatch):
    monkeypatch.setenv("CRM_TEST_NUMBER", "42")
    assert env.env_int("CRM_TEST_NUMBER", 7) == 42
    monkeypatch.setenv("CRM_TEST_NUMBER", " ")
    assert env.env_int("CRM_TEST_NUMBER", 7) == 7
    monkeypatch.delenv("CRM_TEST_NUMBER")
    assert env.env_int("CRM_TEST_NUMBER", 7) == 7


def test_env_int_rejects_garbage_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CRM_TEST_NUMBER", "forty-two")
    with pytest.raises(ImproperlyConfigured, match="CRM_TEST_NUMBER"):
        env.env_int("CRM_TEST_NUMBER", 7)


def test_env_list(monkeypatch):
    monkeypatch.setenv("CRM_TEST_LIST", " crm.example.com, ,www.example.com ,")
    assert env.env_list("CRM_TEST_LIST", ["x"]) == ["crm.example.com", "www.example.com"]
    monkeypatch.setenv("CRM_TEST_LIST", "")
    assert env.env_list("CRM_TEST_LIST", ["x"]) == []
    monkeypatch.delenv("CRM_TEST_LIST")
    assert env.env_list("CRM_TEST_LIST", ["x"]) == ["x"]


def test_env_str_without_a_default_is_required(monkeypatch):
    monkeypatch.delenv("CRM_TEST_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="CRM_TEST_SECRET"):
        env.env_str("CRM_TEST_SECRET")
    monkeypatch.setenv("CRM_TEST_SECRET", "s3cret")
    assert env.env_str("CRM_TEST_SECRET") == "s3cret"


def run_python(settings_module: str, *args: str, **environ: str) -> subprocess.CompletedProcess:
    """Run Python in a clean process: only the variables given here reach the settings."""
    clean = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    clean.update(DJANGO_SETTINGS_MODULE=settings_module, **environ)
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(settings_module: str, *args: str, **environ: str) -> subprocess.CompletedProcess:
    return run_python(settings_module, "manage.py", *args, **environ)


def settings_value(expression: str, **environ: str):
    """`expression` over django.conf.settings (as JSON) in a clean process of the test
    settings."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({expression}, default=str))"
    )
    completed = run_python("crm.settings.test", "-c", script, **environ)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


def test_production_settings_pass_the_deploy_check():
    # given production settings with the required secrets set
    # when
    result = run_manage(
        "crm.settings.production",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=random_secret_key(),
        CRM_FIELD_ENCRYPTION_KEYS=encryption_key_generate(),
        ALLOWED_HOSTS="crm.example.com",
    )

    # then
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_without_a_secret_key_refuse_to_start():
    # given  # when
    result = run_manage("crm.settings.production", "check", ALLOWED_HOSTS="crm.example.com")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_forces_debug_off_even_when_the_environment_says_on():
    # given  # when
    result = run_manage(
        "crm.settings.production",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DEBUG="true",
        SECRET_KEY=random_secret_key(),
        CRM_FIELD_ENCRYPTION_KEYS=encryption_key_generate(),
        ALLOWED_HOSTS="crm.example.com",
    )

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_base_settings_with_debug_off_and_no_secret_key_refuse_to_start():
    # given  # when
    result = run_manage("crm.settings.base", "check", DEBUG="false")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_a_garbage_debug_value_refuses_to_start():
    # given  # when
    result = run_manage("crm.settings.base", "check", DEBUG="sometimes", SECRET_KEY="x" * 60)

    # then
    assert result.returncode != 0
    assert "DEBUG='sometimes' is not a boolean" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    # given production settings with every other secret set
    # when
    result = run_manage(
        "crm.settings.production",
        "check",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="crm.example.com",
    )

    # then
    assert result.returncode != 0
    assert "CRM_FIELD_ENCRYPTION_KEYS must be set in production" in result.stderr


def test_env_json_object_reads_an_object_and_treats_unset_as_empty(monkeypatch):
    monkeypatch.delenv("CRM_TEST_JSON", raising=False)
    assert env.env_json_object("CRM_TEST_JSON") == {}
    monkeypatch.setenv("CRM_TEST_JSON", '{"MAILGUN_API_KEY": "key-1"}')
    assert env.env_json_object("CRM_TEST_JSON") == {"MAILGUN_API_KEY": "key-1"}


@pytest.mark.parametrize("value", ["{not json", "[1, 2]", '"text"'])
def test_env_json_object_names_the_variable_when_it_is_not_an_object(monkeypatch, value):
    monkeypatch.setenv("CRM_TEST_JSON", value)
    with pytest.raises(ImproperlyConfigured, match="CRM_TEST_JSON"):
        env.env_json_object("CRM_TEST_JSON")


def test_a_bucket_name_in_the_environment_puts_uploaded_files_in_s3():
    storage = settings_value("settings.STORAGES['default']", AWS_STORAGE_BUCKET_NAME="crm-media")

    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "crm-media"


def test_without_a_bucket_name_uploaded_files_stay_on_the_local_disk():
    storage = settings_value("settings.STORAGES['default']")

    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


CHANNEL_HOSTS = (
    "[host['address'] for host in settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']]"
)


def test_the_channel_layer_uses_redis_url_unless_shards_are_listed():
    base = "redis://127.0.0.1:6379/3"
    shards = "redis://10.0.0.1:6379/0, redis://10.0.0.2:6379/0"

    assert settings_value(CHANNEL_HOSTS, REDIS_URL=base) == [base]
    assert settings_value(CHANNEL_HOSTS, REDIS_URL=base, CHANNEL_LAYER_REDIS_URLS="") == [base]
    assert settings_value(CHANNEL_HOSTS, REDIS_URL=base, CHANNEL_LAYER_REDIS_URLS=shards) == [
        "redis://10.0.0.1:6379/0",
        "redis://10.0.0.2:6379/0",
    ]


def test_replica_urls_add_databases_the_router_reads_from():
    databases = (
        "{'aliases': settings.CRM_DATABASE_REPLICAS,"
        " 'replica': settings.DATABASES.get('replica_2')}"
    )

    configured = settings_value(
        databases,
        DATABASE_URL="postgres://crm@primary:5432/crm",
        DATABASE_REPLICA_URLS="postgres://crm@replica-a:5432/crm,postgres://crm@replica-b:5432/crm",
    )
    alone = settings_value(databases, DATABASE_URL="postgres://crm@primary:5432/crm")

    assert configured["aliases"] == ["replica_1", "replica_2"]
    assert configured["replica"]["HOST"] == "replica-b"
    assert configured["replica"]["TEST"]["MIRROR"] == "default"
    assert alone == {"aliases": [], "replica": None}


def test_replicas_without_a_primary_refuse_to_start():
    result = run_manage(
        "crm.settings.test", "check", DATABASE_REPLICA_URLS="postgres://crm@replica:5432/crm"
    )

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS needs DATABASE_URL" in result.stderr


@pytest.mark.parametrize(
    ("replica_urls", "message"),
    [
        ("postgres://crm@replica:5432/crm,nonsense", "URL 2 is not a database URL"),
        ("mysql://crm@replica:3306/crm", "URL 1 is django.db.backends.mysql"),
    ],
)
def test_a_replica_url_that_cannot_be_a_replica_is_refused_naming_it(replica_urls, message):
    result = run_manage(
        "crm.settings.test",
        "check",
        DATABASE_URL="postgres://crm@primary:5432/crm",
        DATABASE_REPLICA_URLS=replica_urls,
    )

    assert result.returncode != 0
    assert f"DATABASE_REPLICA_URLS: {message}" in result.stderr


def test_a_beat_lock_too_short_to_keep_is_refused():
    result = run_manage("crm.settings.test", "check", CRM_BEAT_LOCK_SECONDS="1")

    assert result.returncode != 0
    assert "CRM_BEAT_LOCK_SECONDS=1 is too short" in result.stderr
