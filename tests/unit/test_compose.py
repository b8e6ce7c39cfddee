"""docker-compose.yml describes the production shape (no Docker engine runs here: the file is checked)."""

import json
from pathlib import Path

import yaml

from api.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_app_a_migration_step_postgis_and_an_s3_store():
    services = _compose()["services"]
    assert {"app", "migrate", "db", "s3"} <= set(services)
    assert "postgis" in services["db"]["image"]
    assert "fieldwatch migrate" in " ".join(services["migrate"]["command"])
    assert services["worker"]["command"][:2] == ["fieldwatch", "derive"]


def test_every_dependency_names_a_service_that_exists():
    services = _compose()["services"]
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"


def test_the_app_waits_for_migrations_and_healthy_stores():
    deps = _compose()["services"]["app"]["depends_on"]
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert deps["db"]["condition"] == deps["s3"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check_and_data_services_have_volumes():
    compose = _compose()
    services = compose["services"]
    for name in ("app", "db", "s3", "redis"):
        assert "healthcheck" in services[name], name
    declared = set(compose["volumes"])
    for name in ("db", "s3"):
        used = {v.split(":")[0] for v in services[name]["volumes"]}
        assert used & declared, f"{name} keeps its data in no named volume"


def test_the_app_environment_points_at_the_database_and_the_store():
    services = _compose()["services"]
    env = services["app"]["environment"]
    assert set(env) <= set(SETTINGS), f"unknown settings: {set(env) - set(SETTINGS)}"
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["EVIDENCE_STORAGE"] == "s3" and env["S3_ENDPOINT_URL"].startswith("http://s3:")
    assert services["migrate"]["environment"] == env


def test_the_s3_credentials_in_compose_match_the_store_config():
    env = _compose()["services"]["app"]["environment"]
    identities = json.loads((ROOT / "deploy" / "seaweedfs-s3.json").read_text())["identities"]
    keys = {(c["accessKey"], c["secretKey"]) for i in identities for c in i["credentials"]}
    assert (env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"]) in keys


def test_nginx_fronts_the_app_with_the_production_config():
    services = _compose()["services"]
    proxy = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert "healthcheck" in proxy and proxy["ports"]
    assert "ports" not in services["app"], "phones must reach the app only through nginx"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    port = services["app"]["expose"][0]
    assert f"server app:{port};" in conf
    for directive in ("client_header_timeout", "client_body_timeout", "limit_conn per_client",
                      "proxy_request_buffering off"):
        assert directive in conf, directive
