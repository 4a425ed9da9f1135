"""docker-compose.yml and the Makefile run the same, real entry points.

The contract: compose services web, worker, beat, postgres and redis, each with a healthcheck;
web, worker and beat run commands whose modules, attributes and files exist; and the Makefile's
serve-web, serve-worker and serve-beat run exactly those commands from the virtualenv ($(BIN)/).
"""

import importlib
import re
import shlex

import pytest
import yaml
from celery import Celery
from django.apps import apps
from django.db.models import ImageField

from crm import env

REPO_ROOT = env.BASE_DIR
SERVICES = ["web", "worker", "beat", "postgres", "redis"]
MAKE_TARGETS = {"web": "serve-web", "worker": "serve-worker", "beat": "serve-beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    path = REPO_ROOT / "docker-compose.yml"
    assert path.exists(), "docker-compose.yml is missing"
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def makefile() -> str:
    path = REPO_ROOT / "Makefile"
    assert path.exists(), "the Makefile is missing"
    return path.read_text()


def normalised(command: str | list[str]) -> str:
    if isinstance(command, list):
        command = " ".join(command)
    return " ".join(command.split())


def command_of(compose: dict, service: str) -> list[str]:
    command = compose["services"][service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def recipe_of(makefile: str, target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n?)+)", makefile, re.MULTILINE)
    assert match, f"the Makefile has no {target} target with a recipe"
    return [normalised(line) for line in match.group(1).splitlines()]


def option_value(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                return argv[index + 1]
            if name.startswith("--") and arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    return None


def import_object(dotted: str):
    module_name, _colon, attribute = dotted.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


@pytest.mark.parametrize("service", SERVICES)
def test_service_exists_with_a_healthcheck(compose, service):
    # given  # when  # then
    assert service in compose["services"]
    healthcheck = compose["services"][service].get("healthcheck")
    assert healthcheck, f"{service} has no healthcheck"
    assert healthcheck["test"]


def test_web_runs_gunicorn_on_the_asgi_application(compose):
    # given the web command
    argv = command_of(compose, "web")

    # when its application and config file are looked up
    assert argv[0] == "gunicorn"
    app_path = next(arg for arg in argv[1:] if re.fullmatch(r"[\w.]+:\w+", arg))
    application = import_object(app_path)
    config = option_value(argv, "-c", "--config")

    # then they exist, and the config names a worker that serves ASGI
    assert callable(application)
    assert app_path == "crm.asgi:application"
    assert config
    config_path = REPO_ROOT / config
    assert config_path.is_file(), f"{config} does not exist"
    settings: dict = {}
    exec(compile(config_path.read_text(), str(config_path), "exec"), settings)
    worker_module, _dot, worker_class = settings["worker_class"].rpartition(".")
    assert getattr(importlib.import_module(worker_module), worker_class)


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_name_the_celery_app(compose, service):
    # given  # when
    argv = command_of(compose, service)

    # then
    assert argv[0] == "celery"
    app_module = option_value(argv, "-A", "--app")
    assert app_module == "crm"
    assert isinstance(importlib.import_module(f"{app_module}.celery").app, Celery)
    assert argv[argv.index(app_module) + 1] == service


def test_beat_uses_the_database_scheduler(compose):
    # given  # when
    scheduler = option_value(command_of(compose, "beat"), "--scheduler", "-S")

    # then
    assert scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert import_object(scheduler)


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_every_config_file_a_command_names_exists(compose, service):
    # given  # when
    config = option_value(command_of(compose, service), "-c", "--config")

    # then
    if config is not None:
        assert (REPO_ROOT / config).is_file(), f"{service}: {config} does not exist"


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_makefile_runs_the_same_command_as_compose(compose, makefile, service):
    # given the compose command
    command = normalised(compose["services"][service]["command"])

    # when the Makefile target is read
    recipe = recipe_of(makefile, MAKE_TARGETS[service])

    # then it runs the same command from the virtualenv
    assert f"$(BIN)/{command}" in recipe, (command, recipe)
    assert f"$(BIN)/{command}" in normalised(makefile)


def test_web_healthcheck_probes_healthz(compose):
    # given  # when
    probe = normalised(compose["services"]["web"]["healthcheck"]["test"])

    # then
    assert "/healthz" in probe


def test_app_services_run_production_settings_against_postgres_and_redis(compose):
    # given  # when
    for service in ("web", "worker", "beat"):
        environment = compose["services"][service]["environment"]

        # then
        assert environment["DJANGO_SETTINGS_MODULE"] == "crm.settings.production", service
        assert environment["DATABASE_URL"].startswith("postgres://"), service
        assert environment["REDIS_URL"].startswith("redis://"), service
        assert "SECRET_KEY" in environment, service


def requirement_names(filename: str) -> set[str]:
    names = set()
    for line in (REPO_ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_the_image_installs_pillow_for_image_fields():
    # given a model with an ImageField, which Django refuses to run without Pillow (fields.E210)
    image_fields = [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, ImageField)
    ]
    assert image_fields

    # when  # then the runtime requirements, which the Dockerfile installs, include it
    assert "pillow" in requirement_names("requirements.txt")


def test_dev_requirements_include_what_channels_testing_imports():
    # given  # when  # then channels.testing imports daphne, so `make test` must install it
    assert "daphne" in requirement_names("requirements-dev.txt")
