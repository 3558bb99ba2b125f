"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): parse both, check what they name."""

from __future__ import annotations

import ast
import configparser
import importlib
import json
import re
import shlex
import tomllib
from pathlib import Path

import click
import yaml
from packaging.requirements import Requirement

from whoru.api import create_app
from whoru.settings import MIGRATIONS_DIR, PROJECT_ROOT, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def built_services() -> dict[str, dict]:
    """Return the services that run the image the Dockerfile builds."""
    return {name: service for name, service in COMPOSE["services"].items() if service.get("build") == "."}


def parsed(words: list[str]) -> dict:
    """Parse a `whoru` command line with the console script the package installs; return the command's parameters."""
    module, attribute = PROJECT["scripts"]["whoru"].split(":")
    command = getattr(importlib.import_module(module), attribute)
    context = click.Context(command, info_name="whoru")
    while isinstance(command, click.Group):
        name, command, words = command.resolve_command(context, words)
        context = click.Context(command, info_name=name, parent=context)
    return command.make_context(context.info_name, list(words), parent=context.parent).params


def dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions, each a keyword and its text, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def instruction_words(keyword: str) -> list[list[str]]:
    """Return the words of each instruction of a kind."""
    return [shlex.split(text) for kind, text in dockerfile() if kind == keyword]


def run_commands() -> list[list[str]]:
    """Return each shell command of the Dockerfile's RUN instructions, as words."""
    return [shlex.split(part) for kind, text in dockerfile() if kind == "RUN" for part in text.split("&&")]


def pip_install() -> list[str]:
    """Return the words of the image's one `pip install`."""
    [command] = [words for words in run_commands() if words[:2] == ["pip", "install"]]
    return command


def names_of(requirements: list[str]) -> set[str]:
    """Return the distribution names of requirement strings."""
    return {Requirement(r).name for r in requirements}


def installed_names(extras: set[str]) -> set[str]:
    """Return the distributions the package pulls in with these extras (its own extras followed)."""
    names = set()
    for requirement in map(
        Requirement, PROJECT["dependencies"] + [r for e in extras for r in PROJECT["optional-dependencies"][e]]
    ):
        names |= installed_names(requirement.extras) if requirement.name == PROJECT["name"] else {requirement.name}
    return names


def health_url(test: list[str]) -> tuple[int, str]:
    """Return the port and path a `python -c` health check opens."""
    assert test[:3] == ["CMD", "python", "-c"]
    [(port, path)] = re.findall(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)", test[3])
    return int(port), path


def test_the_alembic_command_of_a_checkout_finds_the_migrations_the_service_applies():
    config = configparser.ConfigParser(defaults={"here": str(PROJECT_ROOT)})
    config.read(PROJECT_ROOT / "alembic.ini")
    assert Path(config["alembic"]["script_location"]) == MIGRATIONS_DIR


def test_services_and_health_checks():
    services = COMPOSE["services"]
    assert {"api", "worker", "redis", "postgres", "flower", "migrate"} <= set(services)
    for name in ("postgres", "redis", "api"):
        assert "healthcheck" in services[name], name
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in services["worker"], "workers must scale with --scale worker=N"


def test_redis_keeps_tasks():
    command = COMPOSE["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_every_whoru_command_line_parses_as_the_console_script_would():
    for name, service in built_services().items():
        if service["command"][0] == "whoru":
            parsed(service["command"][1:])
    assert parsed(COMPOSE["services"]["worker"]["command"][1:])["concurrency"] == 2


def test_every_setting_named_is_a_real_setting():
    known = set(Settings.variables())
    for name, service in COMPOSE["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("WHORU_"):
                assert variable in known, (name, variable)
    # With its ${...} secrets filled in, the shared environment is a valid production configuration.
    environment = {
        name: re.sub(r"\$\{[^}]*\}", "secret", str(value)) for name, value in COMPOSE["x-whoru"]["environment"].items()
    }
    settings = Settings.from_env(environment)
    assert settings.env == "production" and settings.storage_url == environment["WHORU_STORAGE_URL"]


def test_the_image_installs_the_deploy_extra_and_none_of_the_training_stack():
    target = [word for word in pip_install()[2:] if word.startswith(PROJECT["name"] + "[")]
    assert len(target) == 1, pip_install()
    wanted = Requirement(target[0].split(" @ ")[0])
    assert wanted.extras <= set(PROJECT["optional-dependencies"]), wanted.extras
    installed = installed_names(wanted.extras)
    assert "train" not in wanted.extras and not installed & names_of(PROJECT["optional-dependencies"]["train"])
    assert {"gunicorn", "celery", "flower", "onnxruntime"} <= installed
    for name, service in built_services().items():
        program = service["command"][0]
        assert program in PROJECT["scripts"] or program in installed, (name, program)


def test_the_image_builds_the_wheel_from_every_folder_it_packs():
    copied = {source for words in instruction_words("COPY") if "--from=wheel" not in words for source in words[:-1]}
    assert set(PYPROJECT["tool"]["setuptools"]["package-dir"].values()) <= copied
    assert ["pip", "wheel"] == [words[:2] for words in run_commands() if words[:2] == ["pip", "wheel"]][0]
    # The service runs from the installed wheel, whose default model is inside it.
    assert "WHORU_MODEL" not in COMPOSE["x-whoru"]["environment"]


def test_services_run_as_the_images_unprivileged_user():
    [useradd] = [words for words in run_commands() if words[0] == "useradd"]
    uid = useradd[useradd.index("--uid") + 1]
    user = useradd[-1]
    assert instruction_words("USER") == [[user]]
    assert {"api", "worker", "migrate", "flower"} <= set(built_services())
    for name, service in built_services().items():
        assert service["user"] == f"{uid}:{uid}", name


def test_the_api_health_check_asks_a_real_route_on_the_port_it_serves(tmp_path):
    api = COMPOSE["services"]["api"]
    options = parsed(api["command"][1:])
    port, path = health_url(api["healthcheck"]["test"])
    assert port == options["port"] and options["host"] == "0.0.0.0"
    assert f"{port}:{port}" in api["ports"]
    app = create_app({"TESTING": True, "environ": {"WHORU_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}})
    assert path in {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def test_the_worker_health_check_imports_real_code_and_pings_the_workers_own_node_name():
    worker = COMPOSE["services"]["worker"]
    test = worker["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    tree = ast.parse(test[3])
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)):
        module = importlib.import_module(node.module)
        assert all(hasattr(module, alias.name) for alias in node.names), node.module
    node_name = parsed(worker["command"][1:])["name"]
    assert node_name.endswith("@%h") and f"'{node_name.removesuffix('%h')}' + socket.gethostname()" in test[3]


def test_services_restart_and_migrations_run_once():
    services = COMPOSE["services"]
    for name in ("api", "worker", "flower", "postgres", "redis"):
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"


def test_flower_asks_for_a_password_and_listens_on_loopback():
    flower = COMPOSE["services"]["flower"]
    assert any(word.startswith("--basic-auth=${FLOWER_USER:?") for word in flower["command"])
    assert flower["ports"] == ["127.0.0.1:5555:5555"]


def test_the_database_password_never_goes_into_a_url():
    environment = COMPOSE["x-whoru"]["environment"]
    assert "POSTGRES_PASSWORD" not in environment["WHORU_DATABASE_URL"]
    assert environment["PGPASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv/", "var/", ".git/", ".cache/"} <= set(ignored)


def test_uploads_live_in_minio_whose_bucket_is_made_at_start():
    services, environment = COMPOSE["services"], COMPOSE["x-whoru"]["environment"]
    assert environment["WHORU_STORAGE_URL"].startswith("s3://whoru/")
    assert environment["WHORU_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "mc mb --ignore-existing store/whoru" in " ".join(services["minio-init"]["entrypoint"])
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
        assert "volumes" not in services[name], "no shared volume: the bucket is the storage"
    assert "storage" not in COMPOSE["volumes"]


def test_prometheus_scrapes_the_api_and_every_worker_and_grafana_has_the_dashboard():
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["whoru-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["whoru-api"]["authorization"]["credentials_file"] == "/etc/prometheus/metrics-token"
    port = int(COMPOSE["x-whoru"]["environment"]["WHORU_METRICS_PORT"])
    assert jobs["whoru-worker"]["dns_sd_configs"][0] == {"names": ["worker"], "type": "A", "port": port}
    assert COMPOSE["configs"]["metrics_token"]["content"].startswith("${WHORU_METRICS_TOKEN:?")
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "whoru.json").read_text())
    expressions = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    for metric in (
        "whoru_images_processed_total",
        "whoru_images_pending",
        "whoru_stage_duration_seconds_bucket",
        "whoru_images_failed_total",
        "whoru_task_failures_total",
    ):
        assert metric in expressions, metric
    assert set(re.findall(r"whoru_[a-z_]+", expressions)) <= exported_metric_names()


def exported_metric_names() -> set[str]:
    """Return the names (with their _total, _bucket suffixes) the API and workers export."""
    from prometheus_client import CollectorRegistry

    from whoru.api.http_metrics import REGISTRY as API_REGISTRY
    from whoru.worker.task_metrics import REGISTRY as WORKER_REGISTRY

    names = {"whoru_jobs", "whoru_images_pending", "whoru_oldest_pending_image_age_seconds"}
    for registry in (API_REGISTRY, WORKER_REGISTRY):
        assert isinstance(registry, CollectorRegistry)
        for family in registry.collect():
            names |= {sample.name for sample in family.samples} | {f"{family.name}_bucket", f"{family.name}_total"}
    return names
