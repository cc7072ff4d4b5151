"""The Kubernetes deployment (hub_config/kubernetes/) checked offline, as far as no cluster allows.

Every plain manifest is validated with kubernetes-validate against the Kubernetes version we target, in
strict mode (an unknown or misspelled field fails). The z2jh values are not a Kubernetes object, but the
pieces of them that end up in one (resources, env, security contexts, volumes, NetworkPolicy rules) are
wrapped in the object they belong to and validated the same way. The hub settings the values hand over as
BOOTCAMP_HUB_* variables must be real HubSettings fields, and hub.extraConfig is compiled and run against a
real BOOTCAMP_HOME. kubernetes-validate reads the schemas shipped in its wheel: nothing here needs a network.
Nothing here runs a cluster, helm or the z2jh chart: docs/kubernetes.md says what that leaves untested.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml
from traitlets.config import Config

from graders.hub.settings import ENV_PREFIX, HubSettings
from graders.settings import Settings

# The Kubernetes minor version the manifests are written for (z2jh 4.4.0 needs >= 1.28; NetworkPolicy
# endPort is GA since 1.25). Raise it with the clusters we deploy to.
KUBERNETES_VERSION = "1.33.0"

KUBE_DIR = Path(__file__).resolve().parent.parent / "hub_config" / "kubernetes"
VALUES = yaml.safe_load((KUBE_DIR / "values.yaml").read_text(encoding="utf-8"))
MANIFEST_FILES = sorted(p for p in KUBE_DIR.glob("*.yaml") if p.name != "values.yaml")
POD_IP = "10.42.0.7"


def manifests() -> list[tuple[str, dict]]:
    """(file name, object) for every object in every plain manifest file."""
    found = []
    for path in MANIFEST_FILES:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found.append((path.name, document))
    return found


def validate(obj: dict) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def env_list(extra_env: dict) -> list[dict]:
    """z2jh's dict form of extraEnv as the Kubernetes EnvVar list it renders (a string is a value; a
    mapping is the EnvVar without its name)."""
    return [
        {"name": name, "value": spec} if isinstance(spec, str) else {"name": name, **spec}
        for name, spec in extra_env.items()
    ]


def pod(container: dict, **spec: object) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "wrapped"},
        "spec": {"containers": [{"name": "wrapped", "image": "wrapped:1", **container}], **spec},
    }


def network_policy(**spec: object) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "wrapped"},
        "spec": {"podSelector": {}, **spec},
    }


def kubespawner_resources(singleuser: dict) -> dict:
    """The container resources KubeSpawner makes from singleuser.memory / cpu / extraResource."""
    limits = {"memory": singleuser["memory"]["limit"], "cpu": singleuser["cpu"]["limit"]}
    requests = {"memory": singleuser["memory"]["guarantee"], "cpu": singleuser["cpu"]["guarantee"]}
    limits.update(singleuser["extraResource"]["limits"])
    requests.update(singleuser["extraResource"]["guarantees"])
    return {"limits": limits, "requests": requests}


def embedded_objects() -> dict[str, dict]:
    """Every Kubernetes fragment values.yaml sets, wrapped in the object z2jh puts it in."""
    hub, singleuser, proxy = VALUES["hub"], VALUES["singleuser"], VALUES["proxy"]
    spawner = hub["config"]["KubeSpawner"]
    image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    wrapped = {
        "hub container (extraEnv, resources, extraVolumeMounts) and pod (extraVolumes)": pod(
            {
                "image": f"{hub['image']['name']}:{hub['image']['tag']}",
                "env": env_list(hub["extraEnv"]),
                "resources": hub["resources"],
                "volumeMounts": hub["extraVolumeMounts"],
            },
            volumes=hub["extraVolumes"],
        ),
        "trainee pod (image, extraEnv, resources, KubeSpawner security contexts)": pod(
            {
                "image": image,
                "env": env_list(singleuser["extraEnv"]),
                "resources": kubespawner_resources(singleuser),
                "securityContext": spawner["container_security_context"],
            },
            securityContext=spawner["pod_security_context"],
        ),
        "hub NetworkPolicy ingress": network_policy(
            policyTypes=["Ingress"], ingress=hub["networkPolicy"]["ingress"]
        ),
    }
    for name, resources in {
        "proxy.chp": proxy["chp"]["resources"],
        "proxy.traefik": proxy["traefik"]["resources"],
        "proxy.secretSync": proxy["secretSync"]["resources"],
        "scheduling.userScheduler": VALUES["scheduling"]["userScheduler"]["resources"],
        "prePuller": VALUES["prePuller"]["resources"],
        "prePuller.hook": VALUES["prePuller"]["hook"]["resources"],
    }.items():
        wrapped[f"{name} resources"] = pod({"resources": resources})
    for owner in ("hub", "singleuser"):
        for direction in ("ingress", "egress"):
            rules = VALUES[owner]["networkPolicy"].get(direction)
            if rules and not (owner == "hub" and direction == "ingress"):
                policy = direction.capitalize()
                wrapped[f"{owner} NetworkPolicy {direction}"] = network_policy(
                    policyTypes=[policy], **{direction: rules}
                )
    return wrapped


# -- plain manifests ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "obj",
    [obj for _, obj in manifests()],
    ids=[f"{f}:{o['kind']}/{o['metadata']['name']}" for f, o in manifests()],
)
def test_every_plain_manifest_is_valid_kubernetes(obj: dict):
    validate(obj)


def test_the_manifests_cover_what_the_chart_does_not_make():
    kinds = {(obj["kind"], obj["metadata"]["name"]) for _, obj in manifests()}
    assert {
        ("Namespace", "bootcamp"),
        ("StatefulSet", "bootcamp-postgresql"),
        ("NetworkPolicy", "bootcamp-postgresql"),
        ("PersistentVolumeClaim", "bootcamp-hub-state"),
        ("Secret", "bootcamp-databases"),
    } <= kinds
    # everything but the namespace itself goes into the namespace the chart is installed in
    assert {obj["metadata"].get("namespace") for _, obj in manifests() if obj["kind"] != "Namespace"} == {
        "bootcamp"
    }


def test_a_misspelled_field_fails_validation():
    by_kind = {obj["kind"]: obj for _, obj in manifests()}
    statefulset = copy.deepcopy(by_kind["StatefulSet"])
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    container["resouces"] = container.pop("resources")
    with pytest.raises(kubernetes_validate.ValidationError, match="resouces"):
        validate(statefulset)
    policy = copy.deepcopy(by_kind["NetworkPolicy"])
    policy["spec"]["ingress"][0]["prots"] = policy["spec"]["ingress"][0].pop("ports")
    with pytest.raises(kubernetes_validate.ValidationError, match="prots"):
        validate(policy)
    # a wrong type is caught too, not only an unknown name
    policy = copy.deepcopy(by_kind["NetworkPolicy"])
    policy["spec"]["policyTypes"] = "Ingress"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(policy)


def test_the_schemas_ship_inside_the_installed_package():
    """kubernetes-validate reads its schemas from its own package folder (no download): the check is
    offline by construction, and the pinned version is one it ships."""
    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    minor = ".".join(KUBERNETES_VERSION.split(".")[:2])
    assert (schemas / f"v{minor}.0-local-strict" / "networkpolicy-networking-v1.json").is_file()


# -- the z2jh values ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(embedded_objects()))
def test_kubernetes_objects_inside_the_values_are_valid(name: str):
    validate(embedded_objects()[name])


def test_a_misspelled_field_inside_the_values_fails_validation():
    trainee = copy.deepcopy(
        embedded_objects()["trainee pod (image, extraEnv, resources, KubeSpawner security contexts)"]
    )
    context = trainee["spec"]["containers"][0]["securityContext"]
    context["allowPrivilegeEscalations"] = context.pop("allowPrivilegeEscalation")
    with pytest.raises(kubernetes_validate.ValidationError, match="allowPrivilegeEscalations"):
        validate(trainee)


def test_every_hub_setting_the_values_set_is_a_real_field():
    fields = {ENV_PREFIX + field.name.upper() for field in dataclasses.fields(HubSettings)}
    names = [name for name in VALUES["hub"]["extraEnv"] if name.startswith(ENV_PREFIX)]
    assert names, "the values hand the hub its settings as BOOTCAMP_HUB_* variables"
    assert sorted(set(names) - fields) == [], "not HubSettings fields (graders/hub/settings.py)"


def test_the_literal_hub_settings_have_the_fields_types(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    literal = {
        k: v for k, v in VALUES["hub"]["extraEnv"].items() if k.startswith(ENV_PREFIX) and isinstance(v, str)
    }
    settings = HubSettings.load(literal)  # raises UserError on a value of the wrong type
    assert settings.cull_idle_s == 0 and settings.exchange == "service"


def test_trainee_servers_get_the_limits_and_image_of_the_hub_settings():
    defaults, singleuser, env = HubSettings(), VALUES["singleuser"], VALUES["hub"]["extraEnv"]
    assert singleuser["memory"]["limit"] == defaults.mem_limit == env["BOOTCAMP_HUB_MEM_LIMIT"]
    assert float(singleuser["cpu"]["limit"]) == defaults.cpu_limit == float(env["BOOTCAMP_HUB_CPU_LIMIT"])
    assert singleuser["uid"] == defaults.container_uid == int(env["BOOTCAMP_HUB_CONTAINER_UID"])
    assert f"{singleuser['image']['name']}:{singleuser['image']['tag']}" == env["BOOTCAMP_HUB_TRAINEE_IMAGE"]
    assert singleuser["image"]["name"].endswith("/bootcamp-trainee")
    # z2jh's culler replaces ours, with our default timeout
    assert VALUES["cull"]["enabled"] and VALUES["cull"]["timeout"] == defaults.cull_idle_s


def test_trainee_servers_reach_no_internet_and_no_cloud_metadata():
    """z2jh renders egressAllowRules into the trainee pods' NetworkPolicy: beside the hub API and the proxy
    (always allowed) only in-cluster DNS may stay on, and no extra rule may open a destination again."""
    policy = VALUES["singleuser"]["networkPolicy"]
    assert policy["enabled"]
    assert {name for name, allowed in policy["egressAllowRules"].items() if allowed} == {
        "dnsPortsKubeSystemNamespace",
        "dnsPortsPrivateIPs",
    }
    assert not policy.get("egress")  # no extra destinations
    assert VALUES["singleuser"]["cloudMetadata"]["ip"] == "169.254.169.254"


def test_the_values_refer_to_the_manifests_beside_them():
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for _, obj in manifests()}
    for volume in VALUES["hub"]["extraVolumes"]:
        assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in objects
    for spec in VALUES["hub"]["extraEnv"].values():
        ref = spec.get("valueFrom", {}).get("secretKeyRef") if isinstance(spec, dict) else None
        if ref:
            assert ref["key"] in objects[("Secret", ref["name"])]["stringData"]


def test_postgresql_admits_only_the_hub_and_the_grading_hosts():
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for _, obj in manifests()}
    policy = objects[("NetworkPolicy", "bootcamp-postgresql")]["spec"]
    pod_labels = objects[("StatefulSet", "bootcamp-postgresql")]["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["egress"] == []
    (rule,) = policy["ingress"]
    sources = [s.get("podSelector", {}).get("matchLabels") or s["ipBlock"]["cidr"] for s in rule["from"]]
    assert sources[0] == {"app": "jupyterhub", "component": "hub"} and len(sources) == 2
    assert rule["ports"] == [{"port": 5432, "protocol": "TCP"}]


# -- hub.extraConfig ----------------------------------------------------------------------------------------------
def test_hub_extra_config_compiles():
    assert VALUES["hub"]["extraConfig"], "the bootcamp's hub configuration"
    for name, source in VALUES["hub"]["extraConfig"].items():
        compile(source, f"hub.extraConfig.{name}", "exec")


def test_hub_extra_config_adds_our_services_on_the_pod_address(tmp_path: Path, monkeypatch):
    """Runs hub.extraConfig.bootcamp as z2jh would (after its own config made the culler) against a real
    BOOTCAMP_HOME with two cohorts, and checks what the hub would be told."""
    from graders.hub import scenario

    env = {
        name: spec if isinstance(spec, str) else f"postgresql://user:pw@db.invalid/{name.lower()}"
        for name, spec in VALUES["hub"]["extraEnv"].items()
        if name != "BOOTCAMP_GRADEBOOK_URL"  # cohorts here keep SQLite gradebooks: no database to reach
    }
    env.update(
        {"POD_IP": POD_IP, "BOOTCAMP_HOME": str(tmp_path), "BOOTCAMP_HUB_STATE_DIR": str(tmp_path / "hub")}
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BOOTCAMP_GRADEBOOK_URL", raising=False)
    scenario.create_cohort(Settings.load(), "north", ["alice"], ["ines"])
    scenario.create_cohort(Settings.load(), "south", ["bob"], ["olli"])

    c = Config()
    c.JupyterHub.services = [
        {"name": "jupyterhub-idle-culler", "command": ["python3", "-m", "jupyterhub_idle_culler"]}
    ]
    c.JupyterHub.load_roles = [{"name": "jupyterhub-idle-culler", "services": ["jupyterhub-idle-culler"]}]
    exec(compile(VALUES["hub"]["extraConfig"]["bootcamp"], "hub.extraConfig.bootcamp", "exec"), {"c": c})

    services = {service["name"]: service for service in c.JupyterHub.services}
    assert {
        "grader",
        "cohort",
        "exchange",
        "bootcamp-manager",
        "formgrader-north",
        "formgrader-south",
    } <= set(services)
    assert "idle-culler" not in services and "jupyterhub-idle-culler" in services  # one culler: z2jh's
    (ingress,) = VALUES["hub"]["networkPolicy"]["ingress"]
    (ports,) = ingress["ports"]
    urls = [urlparse(s["url"]) for s in services.values() if "url" in s]
    assert {u.hostname for u in urls} == {POD_IP}  # the proxy pod can reach them
    assert all(ports["port"] <= u.port <= ports["endPort"] for u in urls)  # and the NetworkPolicy admits it
    assert len({u.port for u in urls}) == len(urls)
    assert (
        urlparse(services["cohort"]["url"]).port == 10101
        and urlparse(services["exchange"]["url"]).port == 10102
    )
    roles = {role["name"] for role in c.JupyterHub.load_roles}
    assert {"jupyterhub-idle-culler", "grader", "user", "formgrade-north"} <= roles
    assert set(c.JupyterHub.load_groups) == {
        "nbgrader-north",
        "formgrade-north",
        "nbgrader-south",
        "formgrade-south",
    }
    # the hub database is the Secret's PostgreSQL, spelled the way HubSettings hands it to JupyterHub
    assert c.JupyterHub.db_url == HubSettings.load().database_url and "db.invalid" in c.JupyterHub.db_url
    assert c.KubeSpawner.image == env["BOOTCAMP_HUB_TRAINEE_IMAGE"]
    assert callable(c.KubeSpawner.pre_spawn_hook)
    assert "access:services!service=exchange" in c.KubeSpawner.server_token_scopes  # trainees reach it


def test_hub_extra_config_refuses_to_run_without_postgresql(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    monkeypatch.delenv("BOOTCAMP_HUB_DB_URL", raising=False)
    with pytest.raises(SystemExit, match="BOOTCAMP_HUB_DB_URL"):
        exec(
            compile(VALUES["hub"]["extraConfig"]["bootcamp"], "hub.extraConfig.bootcamp", "exec"),
            {"c": Config()},
        )
