"""Apps depend one way (CONVENTIONS.md): customers at the base, sales and service on it and
never on each other, analytics and workflow automation on top with nothing importing them. A
lower app hears of a higher one through a registry, so an import against the grain is a bug."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = {"crm"}
ALLOWED = {
    "customers": BASE,
    "collaboration": BASE | {"customers"},
    "mail": BASE | {"customers"},
    "sales": BASE | {"customers", "collaboration", "mail"},
    "service": BASE | {"customers", "collaboration", "mail"},
    "analytics": BASE | {"customers", "collaboration", "mail", "sales", "service"},
    "automation": BASE | {"customers", "collaboration", "mail", "sales", "service"},
}
# The ground floor gathers the apps' urls and WebSocket routing, and imports nothing else of them.
CRM_GATHERERS = {"crm/api_urls.py", "crm/urls.py", "crm/asgi.py"}
APPS = set(ALLOWED) | BASE


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & APPS


def modules_of(app: str) -> list[Path]:
    return [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_an_app_imports_only_the_apps_beneath_it(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) - ALLOWED[app] - {app})
        for path in modules_of(app)
    }
    assert {path: apps for path, apps in wrong.items() if apps} == {}


def test_the_ground_floor_imports_no_app_but_to_gather_their_urls():
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) - BASE)
        for path in modules_of("crm")
        if str(path.relative_to(ROOT)) not in CRM_GATHERERS
    }
    assert {path: apps for path, apps in wrong.items() if apps} == {}
