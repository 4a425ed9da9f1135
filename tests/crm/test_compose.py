"""docker-compose.yml and the Makefile run the same, real entry points, laid out to scale out.

The contract: compose services lb, web, worker, beat, postgres and redis, and every other
long-running service, have a healthcheck; web runs several interchangeable replicas that only
the load balancer reaches; the load balancer (nginx, with deploy/nginx.conf) proxies to web,
WebSocket upgrades included; every worker service runs the Makefile's serve-worker command, with
at most the queues it takes added, and together they take every queue; beat runs serve-beat with
the cluster scheduler; web, worker and beat run commands whose modules, attributes and files
exist, from the virtualenv ($(BIN)/) in the Makefile.
"""

import importlib
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
import yaml
from celery import Celery
from django.apps import apps
from django.conf import settings
from django.db.models import ImageField
from django_celery_beat.schedulers import DatabaseScheduler

from crm import env

REPO_ROOT = env.BASE_DIR
SERVICES = ["lb", "web", "worker", "beat", "postgres", "redis"]
ONE_OFF_SERVICES = {"migrate"}
CLUSTER_SCHEDULER = "crm.beat:ClusterScheduler"


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


def virtualenv_command(makefile: str, target: str) -> str:
    commands = [line for line in recipe_of(makefile, target) if line.startswith("$(BIN)/")]
    assert len(commands) == 1, f"{target} should run one command from $(BIN)/: {commands}"
    return commands[0].removeprefix("$(BIN)/")


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


def gunicorn_settings() -> dict:
    # The config file sets defaults in os.environ; keep them out of the test process.
    namespace: dict = {}
    path = REPO_ROOT / "crm/gunicorn.conf.py"
    with mock.patch.dict(os.environ):
        exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def worker_services(compose: dict) -> list[str]:
    return [
        name
        for name, service in compose["services"].items()
        if service.get("command")
        and command_of(compose, name)[0] == "celery"
        and "worker" in command_of(compose, name)
    ]


def queues_option(argv: list[str]) -> tuple[list[str], list[str]]:
    """The queues a worker command names, and the command without that option."""
    queues, rest = [], []
    for arg in argv:
        if arg.startswith("--queues="):
            queues.extend(name.strip() for name in arg.split("=", 1)[1].split(","))
        else:
            rest.append(arg)
    return queues, rest


def replicas(service: dict) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def size_in_bytes(size: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", size)
    assert match, f"not an nginx size: {size}"
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")


@dataclass
class Block:
    """One nginx directive: its name, its arguments and, for a block, the directives inside."""

    name: str
    args: list[str]
    children: list["Block"] = field(default_factory=list)

    def all(self, name: str) -> list["Block"]:
        return [child for child in self.children if child.name == name]


# A comment, a double- or single-quoted string, a { } or ;, or a bare word.
NGINX_TOKEN = re.compile(
    r"""#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)"""
)


def parse_nginx(text: str) -> Block:
    root = Block("main", [])
    stack, words = [root], []
    for match in NGINX_TOKEN.finditer(text):
        double, single, punctuation, word = match.groups()
        if punctuation == "{":
            block = Block(words[0], words[1:])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif punctuation == ";":
            stack[-1].children.append(Block(words[0], words[1:]))
            words = []
        elif punctuation == "}":
            assert not words, f"nginx.conf: {words} before }}"
            stack.pop()
        elif word is not None or double is not None or single is not None:
            words.append(next(part for part in (word, double, single) if part is not None))
    assert len(stack) == 1 and not words, "nginx.conf: unbalanced braces or a missing ;"
    return root


def effective(chain: list[Block], name: str) -> list[Block]:
    """The directives called name that apply in the innermost block of chain.

    nginx inherits proxy_set_header, proxy_read_timeout and the like from the enclosing block
    only when the inner block sets none of its own.
    """
    for block in reversed(chain):
        if block.all(name):
            return block.all(name)
    return []


def setting(chain: list[Block], name: str) -> list[str]:
    """The arguments of the one directive called name that applies in the innermost block."""
    directives = effective(chain, name)
    assert len(directives) == 1, f"nginx.conf: {len(directives)} {name} where one applies"
    return directives[0].args


def headers_set(chain: list[Block]) -> dict[str, str]:
    return {
        directive.args[0].lower(): " ".join(directive.args[1:])
        for directive in effective(chain, "proxy_set_header")
    }


def mapped_default(http: Block, source: str, value: str) -> str:
    """A literal value, or the default a map from source gives the variable it names."""
    if not value.startswith("$"):
        return value
    for block in http.all("map"):
        if block.args == [source, value]:
            defaults = [entry.args[0] for entry in block.children if entry.name == "default"]
            return defaults[0] if defaults else ""
    return value


@pytest.fixture(scope="module")
def load_balancer(compose) -> dict:
    return compose["services"]["lb"]


@pytest.fixture(scope="module")
def nginx_conf(load_balancer) -> Block:
    mounts = [
        volume
        for volume in load_balancer.get("volumes", [])
        if isinstance(volume, str) and volume.split(":")[1].startswith("/etc/nginx/")
    ]
    assert len(mounts) == 1, f"the load balancer should mount one nginx config: {mounts}"
    source, _target, *mode = mounts[0].split(":")
    assert mode == ["ro"], "the nginx config should be mounted read-only"
    path = REPO_ROOT / Path(source)
    assert path.is_file(), f"{source} does not exist"
    return parse_nginx(path.read_text())


def server_and_locations(nginx_conf: Block) -> tuple[Block, dict[str, Block]]:
    servers = nginx_conf.all("server")
    assert len(servers) == 1, "nginx.conf should hold one server block"
    server = servers[0]
    return server, {" ".join(location.args): location for location in server.all("location")}


@pytest.mark.parametrize("service", SERVICES)
def test_service_exists(compose, service):
    # given  # when  # then
    assert service in compose["services"]


def test_every_long_running_service_has_a_healthcheck(compose):
    # given  # when
    for name, service in compose["services"].items():
        if name in ONE_OFF_SERVICES:
            continue

        # then
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert healthcheck["test"], name


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
    assert config == "crm/gunicorn.conf.py"
    worker_module, _dot, worker_class = gunicorn_settings()["worker_class"].rpartition(".")
    assert getattr(importlib.import_module(worker_module), worker_class)


def test_web_runs_several_replicas_that_only_the_load_balancer_publishes(compose):
    # given  # when
    publishing = {name for name, service in compose["services"].items() if service.get("ports")}

    # then
    assert replicas(compose["services"]["web"]) > 1
    assert publishing == {"lb"}, f"only the load balancer should publish a port: {publishing}"


def test_the_load_balancer_is_nginx_in_front_of_web(load_balancer):
    # given  # when
    image = load_balancer["image"]
    depends_on = load_balancer.get("depends_on", {})

    # then
    assert image == "nginx" or image.startswith(("nginx:", "nginx@")), image
    assert "web" in depends_on
    if isinstance(depends_on, dict):
        assert depends_on["web"]["condition"] == "service_healthy"


def test_the_load_balancer_proxies_every_location_to_the_web_service(load_balancer, nginx_conf):
    # given the web server's own bind address and the proxy's upstream
    web_port = gunicorn_settings()["bind"].rpartition(":")[2]
    server, locations = server_and_locations(nginx_conf)
    upstreams = {block.args[0]: block for block in nginx_conf.all("upstream")}

    # when each location's proxy_pass is followed
    assert "/" in locations and "/ws/" in locations, sorted(locations)
    for path in ("/", "/ws/"):
        (proxy_pass,) = setting([locations[path]], "proxy_pass")
        target = re.fullmatch(r"http://([\w.-]+)/?", proxy_pass)
        assert target, f"{path}: proxy_pass {proxy_pass}"
        upstream = upstreams.get(target.group(1))

        # then it reaches web on the port gunicorn binds
        assert upstream, f"{path}: no upstream {target.group(1)}"
        addresses = [entry.args[0] for entry in upstream.all("server")]
        assert addresses == [f"web:{web_port}"], addresses

    # and the port the compose file publishes is the one nginx listens on
    published_targets = {str(port).rpartition(":")[2] for port in load_balancer["ports"]}
    listening = {directive.args[0].rpartition(":")[2] for directive in server.all("listen")}
    assert published_targets <= listening, (published_targets, listening)


def test_the_load_balancer_passes_websocket_upgrades_on_ws(nginx_conf):
    # given
    server, locations = server_and_locations(nginx_conf)
    chain = [nginx_conf, server, locations["/ws/"]]

    # when
    headers = headers_set(chain)
    http_version = setting(chain, "proxy_http_version")
    read_timeout = setting(chain, "proxy_read_timeout")

    # then
    assert http_version == ["1.1"]
    assert headers.get("upgrade") == "$http_upgrade", headers
    assert mapped_default(nginx_conf, "$http_upgrade", headers.get("connection", "")) == "upgrade"
    seconds = re.fullmatch(r"(\d+)([smh]?)", read_timeout[0])
    assert seconds, read_timeout
    assert int(seconds.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[seconds.group(2)] >= 600


@pytest.mark.parametrize("path", ["/", "/ws/"])
def test_the_load_balancer_passes_the_client_host_scheme_and_address(nginx_conf, path):
    # given
    server, locations = server_and_locations(nginx_conf)

    # when
    headers = headers_set([nginx_conf, server, locations[path]])

    # then
    assert headers.get("host") in {"$host", "$http_host"}, headers
    assert headers.get("x-forwarded-host") in {"$host", "$http_host"}, headers
    assert "x-forwarded-proto" in headers, headers
    assert headers.get("x-forwarded-for") == "$proxy_add_x_forwarded_for", headers


def test_the_load_balancer_takes_the_largest_upload(nginx_conf):
    # given
    server, locations = server_and_locations(nginx_conf)

    # when
    limit = setting([nginx_conf, server, locations["/"]], "client_max_body_size")

    # then
    assert size_in_bytes(limit[0]) >= settings.CRM_UPLOAD_MAX_BYTES


def test_web_trusts_forwarded_headers_from_the_load_balancer(compose):
    # given  # when
    trusted = compose["services"]["web"]["environment"].get("FORWARDED_ALLOW_IPS", "")

    # then uvicorn takes the client's address from X-Forwarded-For, so the login lockout counts
    # per client and not per load balancer
    assert trusted and trusted != "127.0.0.1"


def test_there_are_worker_services(compose):
    # given  # when  # then
    assert "worker" in worker_services(compose)
    assert len(worker_services(compose)) > 1


def test_celery_services_name_the_celery_app(compose):
    # given  # when
    for service in [*worker_services(compose), "beat"]:
        argv = command_of(compose, service)
        kind = "beat" if service == "beat" else "worker"

        # then
        assert argv[0] == "celery", service
        app_module = option_value(argv, "-A", "--app")
        assert app_module == "crm", service
        assert isinstance(importlib.import_module(f"{app_module}.celery").app, Celery)
        assert argv[argv.index(app_module) + 1] == kind, service


def test_every_worker_runs_serve_worker_adding_only_known_queues(compose, makefile):
    # given the Makefile's worker command
    serve_worker = shlex.split(virtualenv_command(makefile, "serve-worker"))

    # when each worker service's command is read
    for service in worker_services(compose):
        queues, rest = queues_option(command_of(compose, service))

        # then it is that command, with at most the queues it takes, all of them known
        assert rest == serve_worker, (service, rest, serve_worker)
        assert set(queues) <= set(settings.CELERY_TASK_QUEUES), (service, queues)
        assert all(queues), f"{service}: an empty queue name"


def test_the_worker_services_take_every_queue(compose):
    # given every queue a task may be sent to
    queues = {
        *settings.CELERY_TASK_QUEUES,
        settings.CELERY_TASK_DEFAULT_QUEUE,
        *(route["queue"] for route in settings.CELERY_TASK_ROUTES.values()),
    }

    # when the worker services' queues are gathered (none named: all of them)
    taken: set[str] = set()
    for service in worker_services(compose):
        named, _rest = queues_option(command_of(compose, service))
        taken |= set(named) if named else set(settings.CELERY_TASK_QUEUES)

    # then none is left without a worker
    assert queues <= taken, f"no worker takes {sorted(queues - taken)}"


def test_beat_uses_the_cluster_scheduler(compose):
    # given  # when
    scheduler = option_value(command_of(compose, "beat"), "--scheduler", "-S")

    # then
    assert scheduler == CLUSTER_SCHEDULER
    assert scheduler == settings.CELERY_BEAT_SCHEDULER
    assert issubclass(import_object(scheduler), DatabaseScheduler)


def test_every_beat_the_makefile_starts_uses_the_cluster_scheduler(makefile):
    # given  # when
    beats = [
        line.split("$(BIN)/", 1)[1].split(" &")[0].rstrip(" \\")
        for line in makefile.splitlines()
        if "$(BIN)/celery" in line and " beat " in line
    ]

    # then
    assert len(beats) >= 2, "serve and serve-beat should both start beat"
    for beat in beats:
        assert option_value(shlex.split(beat), "--scheduler") == CLUSTER_SCHEDULER, beat


def test_every_config_file_a_command_names_exists(compose):
    # given  # when
    for service in ["web", *worker_services(compose), "beat"]:
        config = option_value(command_of(compose, service), "-c", "--config")

        # then
        if config is not None:
            assert (REPO_ROOT / config).is_file(), f"{service}: {config} does not exist"


@pytest.mark.parametrize(("service", "target"), [("web", "serve-web"), ("beat", "serve-beat")])
def test_makefile_runs_the_same_command_as_compose(compose, makefile, service, target):
    # given the compose command
    command = normalised(compose["services"][service]["command"])

    # when the Makefile target is read
    recipe = recipe_of(makefile, target)

    # then it runs the same command from the virtualenv
    assert f"$(BIN)/{command}" in recipe, (command, recipe)


def test_web_healthcheck_probes_healthz(compose):
    # given  # when
    probe = normalised(compose["services"]["web"]["healthcheck"]["test"])

    # then
    assert "/healthz" in probe


def test_worker_healthchecks_ping_their_own_node(compose):
    # given  # when
    for service in worker_services(compose):
        probe = normalised(compose["services"][service]["healthcheck"]["test"])

        # then each container's worker is named celery@<its hostname>
        assert "inspect ping" in probe, service
        assert "celery@$$HOSTNAME" in probe, service


def test_app_services_run_production_settings_against_postgres_and_redis(compose):
    # given  # when
    for service in ["migrate", "web", *worker_services(compose), "beat"]:
        environment = compose["services"][service]["environment"]

        # then
        assert environment["DJANGO_SETTINGS_MODULE"] == "crm.settings.production", service
        assert environment["DATABASE_URL"].startswith("postgres://"), service
        assert environment["REDIS_URL"].startswith("redis://"), service
        assert "SECRET_KEY" in environment, service
        # Set but empty, it would leave channels-redis on localhost; unset means REDIS_URL.
        shards = environment.get("CHANNEL_LAYER_REDIS_URLS")
        assert shards is None or not re.fullmatch(r"(\$\{\w+:?-\})?", shards), service


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
