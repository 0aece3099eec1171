"""The contract between jobs/ and roles/: what the API sends matches libvirt_guest's argument specs.

A small validator reads roles/libvirt_guest/meta/argument_specs.yml with Ansible's semantics
(type, elements, options, required, choices; unknown sub-options refused) and checks the
extravars that api/services/vms.py builds, as the playbooks hand them to the role.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import marshmallow as ma
import pytest
import yaml
from sqlalchemy.orm import Session

from api.models import VM, GuestNetwork, Job, JobKind, JobStatus, User, VMStatus
from api.services import guests, lifecycle, resize, snapshots, vms
from api.settings import MAX_PORT, MIN_FORWARDED_PORT, REPO_ROOT, Settings
from api.web.resources.snapshot.schemas import SnapshotCreateSchema
from api.web.resources.vm.schemas import VM_NAME_MAX, VMCreateSchema, VMResizeSchema
from jobs import vms as vm_jobs
from tests.conftest import Factory
from tests.helpers import ssh_keys
from tests.helpers.images import stored_image
from tests.helpers.snapshots import ready_snapshot

ROLE = REPO_ROOT / "roles" / "libvirt_guest"
PLAYBOOKS = REPO_ROOT / "playbooks"
TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "path": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "raw": (object,),
}


def check_value(value: Any, spec: dict[str, Any], where: str) -> list[str]:
    """Errors for one value against one option spec (Ansible's argument_spec semantics)."""
    kind = spec.get("type", "str")
    allowed = TYPES[kind]
    if not isinstance(value, allowed) or (kind in ("int", "float") and isinstance(value, bool)):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "choices" in spec and value not in spec["choices"]:
        return [f"{where}: {value!r} not in {spec['choices']}"]
    if kind == "list":
        element = {"type": spec.get("elements", "raw"), "options": spec.get("options")}
        return [
            err
            for i, item in enumerate(value)
            for err in check_value(item, element, f"{where}[{i}]")
        ]
    if kind == "dict" and spec.get("options") is not None:
        return check_options(value, spec["options"], where)
    return []


def check_options(values: dict[str, Any], options: dict[str, Any], where: str) -> list[str]:
    """Errors for a mapping of parameters against an options block."""
    errors = [
        f"{where}.{name}: unsupported parameter" for name in sorted(set(values) - set(options))
    ]
    for name, spec in options.items():
        if name not in values:
            if spec.get("required"):
                errors.append(f"{where}.{name}: missing required parameter")
            continue
        errors += check_value(values[name], spec, f"{where}.{name}")
    return errors


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    path = ROLE / "meta" / "argument_specs.yml"
    if not path.exists():
        pytest.fail(f"{path} is missing: the role's contract must be declared")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
    return data


@pytest.fixture(scope="module")
def role_vars() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))
    return data


def role_entry(playbook: str) -> dict[str, Any]:
    """The playbook's one include of libvirt_guest: its entry point (tasks_from) and vars."""
    plays = yaml.safe_load((PLAYBOOKS / playbook).read_text(encoding="utf-8"))
    entries = [
        task
        for play in plays
        for task in play.get("tasks", [])
        if task.get("ansible.builtin.include_role", {}).get("name") == "libvirt_guest"
    ]
    assert len(entries) == 1, f"{playbook} must include the libvirt_guest role once"
    assert not any(play.get("roles") for play in plays), f"{playbook}: roles: has no entry point"
    include = entries[0]["ansible.builtin.include_role"]
    assert set(include) == {"name", "tasks_from"}, include
    return {"entry": include["tasks_from"], "vars": entries[0]["vars"]}


def role_params(playbook: str, extravars: dict[str, Any]) -> dict[str, Any]:
    """What the role receives when the playbook runs with extravars (the one mapping it does)."""
    params = dict(role_entry(playbook)["vars"])
    assert params["libvirt_guest_list"] == "{{ virtflow_guests }}"
    params["libvirt_guest_list"] = extravars["virtflow_guests"]
    return params


def assert_valid(params: dict[str, Any], specs: dict[str, Any], entry: str) -> None:
    errors = check_options(params, specs[entry]["options"], entry)
    assert errors == [], errors


@pytest.fixture
def created(db: Session, make: Factory) -> tuple[VM, Job]:
    make.baremetal("bm-a", capacity_vcpus=64, capacity_ram_mb=1_048_576, capacity_disk_gb=65_536)
    admin = make.user(is_admin=True)
    tenant = make.tenant()
    name = "a" * VM_NAME_MAX
    job = vms.create_vm(db, admin, vms.VMRequest(tenant.id, name, 64, 1_048_576, 65_536), None)
    return db.get_one(VM, job.vm_id), job


# --- the validator itself ---------------------------------------------------------------------

GUESTS = {
    "type": "list",
    "elements": "dict",
    "required": True,
    "options": {
        "name": {"type": "str", "required": True},
        "vcpus": {"type": "int", "required": False},
    },
}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([{"name": "a", "vcpus": 1}], None),
        ([{"vcpus": 1}], "[0].name: missing required parameter"),
        ([{"name": "a", "vcpus": "1"}], "[0].vcpus: expected int, got str"),
        ([{"name": "a", "vcpus": True}], "[0].vcpus: expected int, got bool"),
        ([{"name": "a", "ram": 1}], "[0].ram: unsupported parameter"),
        ([{"name": 3}], "[0].name: expected str, got int"),
        ({"name": "a"}, ": expected list, got dict"),
        (["a"], "[0]: expected dict, got str"),
    ],
)
def test_contract_validator_applies_ansible_rules(value: Any, error: str | None) -> None:
    errors = check_options({"g": value}, {"g": GUESTS}, "x")
    assert errors == ([] if error is None else [f"x.g{error}"])


def test_contract_validator_requires_and_restricts_choices() -> None:
    options = {"state": {"type": "str", "choices": ["running", "absent"]}, "g": GUESTS}
    assert check_options({}, options, "x") == ["x.g: missing required parameter"]
    assert check_options({"g": [], "state": "gone"}, options, "x") == [
        "x.state: 'gone' not in ['running', 'absent']"
    ]


# --- the contract -----------------------------------------------------------------------------


def test_contract_spec_declares_guest_list_items(specs: dict[str, Any]) -> None:
    option = specs["main"]["options"]["libvirt_guest_list"]
    assert (option["type"], option["elements"], option["required"]) == ("list", "dict", True)
    items = option["options"]
    assert set(items) >= {"name", "uuid", "vcpus", "ram_mb", "disk_gb"}
    assert items["name"] == items["name"] | {"type": "str", "required": True}
    for size in ("vcpus", "ram_mb", "disk_gb"):
        assert items[size]["type"] == "int"
    running = specs["running"]["options"]["libvirt_guest_list"]["options"]
    assert all(running[size]["required"] for size in ("vcpus", "ram_mb", "disk_gb"))


def test_contract_create_extravars_match_role_spec(
    specs: dict[str, Any], created: tuple[VM, Job]
) -> None:
    vm, job = created
    assert job.playbook == "vm_create.yml"
    assert role_entry(job.playbook)["entry"] == "running"
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, "running")
    assert params["libvirt_guest_list"] == [{**vms.guest_spec(vm), "mac": vm.mac}]


def test_contract_delete_extravars_match_role_spec(
    db: Session, specs: dict[str, Any], created: tuple[VM, Job]
) -> None:
    vm, create_job = created
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.RUNNING
    db.flush()
    job = vms.request_delete(db, db.get_one(User, vm.created_by_id), vm.id, None)
    assert job.playbook == "vm_delete.yml"
    assert role_entry(job.playbook)["entry"] == "absent"
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, "absent")
    assert [g["name"] for g in params["libvirt_guest_list"]] == [vm.domain_name]
    # vf-* guests are deleted, stopped and started only by UUID (tasks/validate.yml).
    assert params["libvirt_guest_list"][0]["uuid"] == str(vm.id)


@pytest.mark.parametrize(
    ("kind", "entry"),
    [(JobKind.VM_STOP, "stopped"), (JobKind.VM_START, "started"), (JobKind.VM_REBOOT, "rebooted")],
)
def test_contract_power_extravars_match_role_spec(
    db: Session, specs: dict[str, Any], created: tuple[VM, Job], kind: JobKind, entry: str
) -> None:
    vm, create_job = created
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.STOPPED if kind == JobKind.VM_START else VMStatus.RUNNING
    db.flush()
    owner = db.get_one(User, vm.created_by_id)
    job = vms.request_power(db, owner, vm.id, kind, None, force=True, timeout=30)
    assert role_entry(job.playbook)["entry"] == entry
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, entry)
    [guest] = params["libvirt_guest_list"]
    assert (guest["name"], guest["uuid"]) == (vm.domain_name, str(vm.id))
    assert guest["name"].startswith("vf-")


def test_contract_domain_names_match_role_pattern(
    role_vars: dict[str, Any], created: tuple[VM, Job]
) -> None:
    vm, _job = created
    pattern = re.compile(role_vars["__libvirt_guest_name_regex"])
    assert pattern.match(vm.domain_name)
    assert pattern.match(vms.domain_name("a", uuid.uuid4()))
    uuid_pattern = re.compile(role_vars["__libvirt_guest_uuid_regex"])
    assert uuid_pattern.match(vms.guest_spec(vm)["uuid"])


@pytest.mark.parametrize("schema", [VMCreateSchema, VMResizeSchema])
def test_contract_api_size_limits_equal_role_limits(
    role_vars: dict[str, Any], schema: type[ma.Schema]
) -> None:
    fields = schema().fields
    for size in ("vcpus", "ram_mb", "disk_gb"):
        [bounds] = [v for v in fields[size].validators if isinstance(v, ma.validate.Range)]
        assert [bounds.min, bounds.max] == role_vars[f"__libvirt_guest_{size}_range"], size


def test_contract_resize_extravars_match_role_spec(
    db: Session, specs: dict[str, Any], created: tuple[VM, Job]
) -> None:
    vm, create_job = created
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.STOPPED
    db.flush()
    owner = db.get_one(User, vm.created_by_id)
    job, _old = resize.request_resize(db, owner, vm.id, {"vcpus": 32}, None)
    assert role_entry(job.playbook)["entry"] == "resized"
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, "resized")
    # The role gets the whole new size; the old one stays with the job (not a role parameter).
    assert params["libvirt_guest_list"] == [vms.guest_spec(vm)]
    assert params["libvirt_guest_list"][0]["vcpus"] == 32
    assert set(job.extravars) == {"virtflow_guests", resize.RESIZE_FROM}


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        (JobKind.VM_CREATE, "running"),
        (JobKind.VM_DELETE, "absent"),
        (JobKind.VM_STOP, "stopped"),
        (JobKind.VM_START, "started"),
        (JobKind.VM_REBOOT, "rebooted"),
        (JobKind.VM_RESIZE, "resized"),
    ],
)
def test_contract_playbooks_map_virtflow_guests_to_the_entry_point(
    specs: dict[str, Any], kind: JobKind, entry: str
) -> None:
    # The operation is the entry point; no variable (one an -e could override) selects it.
    found = role_entry(lifecycle.operation(kind).playbook)
    assert found == {"entry": entry, "vars": {"libvirt_guest_list": "{{ virtflow_guests }}"}}
    assert "libvirt_guest_state" not in specs[entry]["options"]
    assert specs[entry]["options"]["libvirt_guest_list"]["required"] is True
    tasks = (ROLE / "tasks" / f"{entry}.yml").read_text(encoding="utf-8")
    assert "libvirt_guest_state" not in tasks


@pytest.mark.parametrize(
    ("tasks", "keys"),
    [
        # running.yml and resized.yml report through it: state, uuid and what was allocated.
        ("allocation_report.yml", ("'state'", "'uuid'", "'vcpus'", "'ram_mb'", "'disk_gb'")),
        ("absent.yml", ("'state': 'absent'",)),
    ],
)
def test_contract_role_reports_what_jobs_read(tasks: str, keys: tuple[str, ...]) -> None:
    # jobs/vms.py reads set_stats data virtflow_guests.<domain>.state (and .uuid on create).
    text = (ROLE / "tasks" / tasks).read_text(encoding="utf-8")
    stats = text[text.index("ansible.builtin.set_stats") :]
    assert "virtflow_guests" in stats
    for key in keys:
        assert key in stats


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        (JobKind.VM_SNAPSHOT, "snapshotted"),
        (JobKind.VM_SNAPSHOT_DELETE, "snapshot_deleted"),
        (JobKind.VM_REVERT, "reverted"),
    ],
)
def test_contract_snapshot_extravars_match_role_spec(
    db: Session, specs: dict[str, Any], created: tuple[VM, Job], kind: JobKind, entry: str
) -> None:
    vm, create_job = created
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.STOPPED
    db.flush()
    owner = db.get_one(User, vm.created_by_id)
    name = "s" * VM_NAME_MAX  # the longest name the API takes
    if kind == JobKind.VM_SNAPSHOT:
        job = snapshots.request_create(db, owner, vm.id, name, None, request_id=None).job
    else:
        snap = ready_snapshot(db, vm, name)
        act = (
            snapshots.request_delete
            if kind == JobKind.VM_SNAPSHOT_DELETE
            else snapshots.request_revert
        )
        job = act(db, owner, vm.id, snap.id, None).job
    found = role_entry(job.playbook)
    assert found == {"entry": entry, "vars": {"libvirt_guest_list": "{{ virtflow_guests }}"}}
    assert "libvirt_guest_state" not in specs[entry]["options"]
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, entry)
    [guest] = params["libvirt_guest_list"]
    assert guest == {"name": vm.domain_name, "uuid": str(vm.id), "snapshot": name}


def test_contract_snapshot_names_the_api_takes_are_the_roles(role_vars: dict[str, Any]) -> None:
    pattern = re.compile(role_vars["__libvirt_guest_snapshot_regex"])
    schema = SnapshotCreateSchema()
    for name in (
        "a",
        "before-upgrade",
        "s" * VM_NAME_MAX,
        "a" * (VM_NAME_MAX + 1),
        "A",
        "-x",
        "a\n",
    ):
        api_ok = not schema.validate({"name": name})
        assert api_ok == bool(pattern.match(name)), name


@pytest.mark.parametrize(
    ("tasks", "keys"),
    [
        ("snapshot_report.yml", ("'state'", "'uuid'", "'snapshot'")),
        ("snapshotted.yml", ("'snapshot_state'",)),
    ],
)
def test_contract_snapshot_entry_points_report_what_jobs_read(
    tasks: str, keys: tuple[str, ...]
) -> None:
    # api.services.snapshots reads .state (the VM) and .snapshot_state (a take's power state).
    text = (ROLE / "tasks" / tasks).read_text(encoding="utf-8")
    for key in keys:
        assert key in text


# --- a guest from an image (issue 9) ------------------------------------------------------------


@pytest.fixture
def from_image(db: Session, make: Factory) -> tuple[VM, Job]:
    """The fullest create spec: an image, keys, user_data, on a user-mode host (an SSH port)."""
    make.baremetal("bm-u", guest_network=GuestNetwork.USER)
    admin = make.user(is_admin=True)
    request = vms.VMRequest(
        make.tenant().id,
        "h" * VM_NAME_MAX,
        1,
        256,
        2,
        image_id=stored_image(db).id,
        ssh_authorized_keys=[ssh_keys.ED25519, ssh_keys.sk_ed25519()],
        user_data="#cloud-config\npackages: [nginx]\n",
    )
    job = vms.create_vm(db, admin, request, None)
    return db.get_one(VM, job.vm_id), job


def test_contract_image_create_extravars_match_role_spec(
    specs: dict[str, Any], role_vars: dict[str, Any], from_image: tuple[VM, Job]
) -> None:
    _vm, job = from_image
    params = role_params(job.playbook, job.extravars)
    assert_valid(params, specs, "running")
    [guest] = params["libvirt_guest_list"]
    assert set(guest) == {
        "name", "uuid", "vcpus", "ram_mb", "disk_gb", "mac", "ssh_port", "image", "hostname",
        "ssh_authorized_keys",
    }  # fmt: skip
    assert re.match(role_vars["__libvirt_guest_mac_regex"], guest["mac"])
    assert re.match(role_vars["__libvirt_guest_sha256_regex"], guest["image"]["sha256"])
    assert re.match(role_vars["__libvirt_guest_name_regex"], guest["hostname"])
    low, high = role_vars["__libvirt_guest_ssh_port_range"]
    assert low <= guest["ssh_port"] <= high
    assert guest["image"]["source"].startswith("/")


def test_contract_the_create_run_adds_user_data_as_the_role_takes_it(
    specs: dict[str, Any], from_image: tuple[VM, Job]
) -> None:
    vm, job = from_image
    assert "user_data" not in job.extravars["virtflow_guests"][0]
    run_vars = vm_jobs._with_secrets(job, vm)
    params = role_params(job.playbook, run_vars)
    assert_valid(params, specs, "running")
    assert params["libvirt_guest_list"][0]["user_data"] == vm.user_data
    assert specs["running"]["options"]["libvirt_guest_list"]["options"]["user_data"]["no_log"]


def test_contract_ssh_ports_the_api_may_give_are_the_roles(role_vars: dict[str, Any]) -> None:
    assert role_vars["__libvirt_guest_ssh_port_range"] == [MIN_FORWARDED_PORT, MAX_PORT]
    low, high = Settings().guest_ssh_port_range
    assert MIN_FORWARDED_PORT <= low <= high <= MAX_PORT
    assert guests.DEFAULT.ssh_ports == (low, high)
