"""docker-compose.yml cannot run here (no Docker engine); check everything it names exists."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml
from click.testing import CliRunner

from cli.main import main
from whoru.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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


def test_every_whoru_command_and_option_exists():
    for name, service in COMPOSE["services"].items():
        command = service.get("command")
        if not command or command[0] != "whoru":
            continue
        words = [w for w in command[1:] if not w.startswith("-")][:2]
        result = CliRunner().invoke(main, [*words[: 2 if words[0] == "db" else 1], "--help"])
        assert result.exit_code == 0, (name, result.output)
        for option in (w for w in command if w.startswith("--")):
            assert option in result.output, (name, option)


def test_every_setting_named_is_a_real_setting():
    known = set(Settings.variables())
    for name, service in COMPOSE["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("WHORU_"):
                assert variable in known, (name, variable)


def test_the_image_serves_without_the_training_stack_as_a_plain_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "'.[deploy]'" in dockerfile and "train" not in dockerfile.split("RUN", 1)[1].split("\n")[0]
    assert "\nUSER whoru\n" in dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    serving = " ".join(project["dependencies"])
    assert "tensorflow" not in serving and "gunicorn" in serving
    assert any(d.startswith("tensorflow") for d in project["optional-dependencies"]["train"])
    assert any(d.startswith("flower") for d in project["optional-dependencies"]["deploy"])
    for service in ("api", "worker", "migrate", "flower"):
        assert COMPOSE["services"][service]["build"] == "."
        assert COMPOSE["services"][service]["user"] == "10001:10001"


def test_workers_have_a_health_check_and_services_restart():
    services = COMPOSE["services"]
    assert "celery_from_env().control.inspect" in " ".join(services["worker"]["healthcheck"]["test"])
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
    for metric in ("whoru_images_processed_total", "whoru_images_pending", "whoru_stage_duration_seconds_bucket",
                   "whoru_images_failed_total", "whoru_task_failures_total"):
        assert metric in expressions, metric
    assert set(re.findall(r"whoru_[a-z_]+", expressions)) <= exported_metric_names()


def exported_metric_names() -> set[str]:
    """Return the names (with their _total, _bucket suffixes) the API and workers export."""
    from prometheus_client import CollectorRegistry

    import api.metrics
    import worker.metrics

    names = {"whoru_jobs", "whoru_images_pending", "whoru_oldest_pending_image_age_seconds"}
    for registry in (api.metrics.REGISTRY, worker.metrics.REGISTRY):
        assert isinstance(registry, CollectorRegistry)
        for family in registry.collect():
            names |= {sample.name for sample in family.samples} | {f"{family.name}_bucket", f"{family.name}_total"}
    return names
