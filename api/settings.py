"""The one place that reads the environment: a frozen Settings built from VIRTFLOW_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.db import Timeouts
from api.logs import LOG_FORMATS
from api.models.quota import DEFAULT_LIMITS
from api.services.capacity import Policy

REPO_ROOT = Path(__file__).resolve().parent.parent
WEAK_SECRETS = frozenset({"", "changeme", "secret", "change-me", "virtflow"})
MIN_SECRET_BYTES = 32
# Ports a guest's SSH forward may take (vm.ssh_port's CHECK): never a privileged one.
MIN_FORWARDED_PORT, MAX_PORT = 1024, 65535
SCHEDULER_POLICIES = frozenset({"spread", "pack"})  # api.services.scheduler.BUILT_IN
MIN_METRICS_TOKEN_BYTES = 16
# gunicorn's sync workers are killed after 30 s (its default --timeout) busy on one request:
# an event stream ends before (docs/api.md, Watching a job).
SSE_MAX_SECONDS_CEILING = 25


class SettingsError(ValueError):
    """The environment does not describe a usable configuration."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    """A string variable; unset or empty keeps the default."""
    return env.get(name) or default


def _choice(env: Mapping[str, str], name: str, default: str, allowed: frozenset[str]) -> str:
    """A string variable that must be one of allowed (compared in lower case)."""
    value = _str(env, name, default).lower()
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    return Path(env[name]) if env.get(name) else None


def _read_secret(env: Mapping[str, str], name: str) -> str:
    """A secret comes from NAME or from the file named by NAME_FILE (docker secrets style)."""
    value = env.get(name, "")
    path = env.get(f"{name}_FILE", "")
    if not value and path:
        value = Path(path).read_text(encoding="utf-8").strip()
    return value


def _local_secret(state_dir: Path) -> str:
    """The secret `virtflow init` wrote for a single-machine install, if any."""
    path = state_dir / "jwt_secret"
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; nothing here connects to anything."""

    # The application's role (API, workers, the ops-run callback): it owns nothing and has only
    # the privileges `virtflow db upgrade` grants it (api/db_roles.py).
    database_url: str = "postgresql+psycopg://virtflow_app@127.0.0.1:5432/virtflow"
    # The owner of the schema: only `virtflow db upgrade`, `db check` and `db backup` use it.
    migrate_database_url: str = field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/virtflow", repr=False
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "virtflow"
    jwt_secret: str = field(default="", repr=False)
    jwt_access_minutes: int = 60
    jwt_refresh_days: int = 7
    admin_username: str = "admin"
    admin_password: str = field(default="", repr=False)
    state_dir: Path = REPO_ROOT / ".virtflow"
    ansible_dir: Path = REPO_ROOT
    inventory_path: Path = REPO_ROOT / "inventory"
    job_timeout_seconds: int = 1800
    # Most VMs one job creates on its host in one playbook run (jobs/batch.py).
    batch_limit: int = 50
    # RQ workers `virtflow run` starts; 0: one per host of the inventory plus one (the
    # single-VM actions), at most MAX_AUTO_WORKERS. Each host runs one batch at a time.
    workers: int = 0
    max_body_bytes: int = 64 * 1024
    event_stdout_limit: int = 16 * 1024
    job_stdout_limit: int = 1024 * 1024
    log_level: str = "INFO"
    # "text" (one line: time level logger [request_id=...] message) or "json" (one object a line).
    log_format: str = "text"
    quota_defaults: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # Failed logins (and wrong current passwords) allowed per window (api/web/limiter.py): per
    # account from one address; per address over all accounts; per account over all addresses
    # but those it logged in from lately (so much higher: strangers must not lock it out).
    login_fails_per_pair: int = 5
    login_fails_per_address: int = 20
    login_fails_per_account: int = 100
    login_fail_window_seconds: int = 300
    # Redis key prefix of the login limiter; empty means "<queue_name>:login-limit".
    rate_limit_prefix: str = ""
    # Reverse proxies in front of the API whose X-Forwarded-For is trusted (0: none, the
    # peer address is the client's). Client addresses feed the audit log and login limits.
    trusted_proxies: int = 0
    # Placement policy of the built-in scheduler (spread or pack), or an external scheduler's
    # URL (api/services/scheduler.py documents its protocol), which then decides instead.
    scheduler_policy: str = "spread"
    scheduler_url: str = ""
    # Seconds between two sweeps of lost jobs (jobs/reconcile.py), run by every worker process.
    sweep_interval_seconds: int = 15
    # A running job renews its lease (job.heartbeat_at) every lease/3 seconds; a job whose
    # lease is older than this many seconds has lost its worker and is failed by the sweep.
    job_lease_seconds: int = 30
    # A queued job older than this that RQ does not hold is queued again by the sweep (younger
    # ones may still be between the API's commit and its enqueue).
    queued_grace_seconds: int = 60
    # The sweep queues a host.domains job (libvirt's domains compared with the VMs) on each active
    # or maintenance host whose last one is older than this many seconds.
    domain_check_interval_seconds: int = 60
    # That many failed host.domains checks in a row make an active host `offline` (so within
    # about offline_after x the interval above); one that answers makes it `active` again.
    host_offline_after: int = 2
    # A host's placeable capacity, where the inventory sets no virtflow_capacity_* var:
    # discovered x ratio - reserved (api/services/capacity.py); host_vars may override each.
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_vcpus: int = 0
    reserved_ram_mb: int = 512
    reserved_disk_gb: int = 5
    # ansible-runner's private data dirs, one per job (<run_dir>/<job id>); empty: <state_dir>/runs.
    run_dir: Path | None = None
    # Client timeouts in seconds: no request waits on a paused dependency past these.
    db_connect_timeout: int = 5
    db_statement_timeout_ms: int = 15_000
    redis_connect_timeout: float = 2.0
    redis_socket_timeout: float = 2.0
    # Bearer token Prometheus sends to GET /metrics; empty: /metrics answers 404 (off).
    metrics_token: str = field(default="", repr=False)
    # Where `virtflow serve` keeps the gunicorn workers' metric files (<dir>/<pid of the server>);
    # empty: <state_dir>/metrics.
    metrics_dir: Path | None = None
    # Seconds one event stream (GET /job/{id}/events/stream/) lasts at most; the client then
    # reconnects with Last-Event-ID. It holds a gunicorn worker all along.
    sse_max_seconds: int = 20
    # The controller's image store: one file per image, named by its id; empty: <state_dir>/images.
    image_store: Path | None = None
    # The largest image an upload or an import may bring (bytes); 413 PAYLOAD_TOO_LARGE past it.
    image_max_bytes: int = 20 * 1024**3
    # The machine-wide cache of images VirtFlow builds itself (api/images/): shared by every clone
    # of the repo on this machine, so CI and developers build the default image once.
    # Empty: see the image_cache property.
    image_cache_dir: Path | None = None
    # The largest user_data (cloud-config) a VM create takes, in bytes of UTF-8; 422 past it.
    user_data_max_bytes: int = 16 * 1024
    # "LOW-HIGH": the 127.0.0.1 ports of a host with user-mode guest networking that forward
    # SSH to its guests, one per live VM, the lowest free one first (1024..65535).
    guest_ssh_ports: str = "22000-22999"
    # A list page counts its rows exactly up to this many; past it, total is the planner's
    # estimate (meta.pagination.total_is_estimate), so no page counts a whole big table.
    exact_count_limit: int = 10_000
    # The sweep deletes the events of jobs that ended more than this many days ago (the job row,
    # its status, explanation, stdout and artifacts stay); 0 keeps them forever.
    job_event_retention_days: int = 90

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from VIRTFLOW_* variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        base = cls()
        ansible_dir = Path(_str(env, "VIRTFLOW_ANSIBLE_DIR", str(base.ansible_dir)))
        state_dir = Path(_str(env, "VIRTFLOW_STATE_DIR", str(base.state_dir)))
        return cls(
            database_url=_read_secret(env, "VIRTFLOW_DATABASE_URL") or base.database_url,
            migrate_database_url=_read_secret(env, "VIRTFLOW_MIGRATE_DATABASE_URL")
            or base.migrate_database_url,
            redis_url=_str(env, "VIRTFLOW_REDIS_URL", base.redis_url),
            queue_name=_str(env, "VIRTFLOW_QUEUE", base.queue_name),
            jwt_secret=_read_secret(env, "VIRTFLOW_JWT_SECRET") or _local_secret(state_dir),
            jwt_access_minutes=_int(env, "VIRTFLOW_JWT_ACCESS_MINUTES", base.jwt_access_minutes),
            jwt_refresh_days=_int(env, "VIRTFLOW_JWT_REFRESH_DAYS", base.jwt_refresh_days),
            admin_username=_str(env, "VIRTFLOW_ADMIN_USERNAME", base.admin_username),
            admin_password=_read_secret(env, "VIRTFLOW_ADMIN_PASSWORD"),
            state_dir=state_dir,
            ansible_dir=ansible_dir,
            inventory_path=Path(_str(env, "VIRTFLOW_INVENTORY", str(ansible_dir / "inventory"))),
            job_timeout_seconds=_int(env, "VIRTFLOW_JOB_TIMEOUT", base.job_timeout_seconds),
            batch_limit=_int(env, "VIRTFLOW_BATCH_LIMIT", base.batch_limit),
            workers=_int(env, "VIRTFLOW_WORKERS", base.workers),
            max_body_bytes=_int(env, "VIRTFLOW_MAX_BODY_BYTES", base.max_body_bytes),
            event_stdout_limit=_int(env, "VIRTFLOW_EVENT_STDOUT_LIMIT", base.event_stdout_limit),
            job_stdout_limit=_int(env, "VIRTFLOW_JOB_STDOUT_LIMIT", base.job_stdout_limit),
            log_level=_str(env, "VIRTFLOW_LOG_LEVEL", base.log_level).upper(),
            log_format=_choice(env, "VIRTFLOW_LOG_FORMAT", base.log_format, LOG_FORMATS),
            quota_defaults={
                name: _int(env, f"VIRTFLOW_QUOTA_{name.upper()}", limit)
                for name, limit in DEFAULT_LIMITS.items()
            },
            trusted_proxies=_int(env, "VIRTFLOW_TRUSTED_PROXIES", base.trusted_proxies),
            sweep_interval_seconds=_int(
                env, "VIRTFLOW_SWEEP_INTERVAL", base.sweep_interval_seconds
            ),
            job_lease_seconds=_int(env, "VIRTFLOW_JOB_LEASE", base.job_lease_seconds),
            scheduler_policy=_str(env, "VIRTFLOW_SCHEDULER", base.scheduler_policy),
            scheduler_url=_str(env, "VIRTFLOW_SCHEDULER_URL", base.scheduler_url),
            queued_grace_seconds=_int(env, "VIRTFLOW_QUEUED_GRACE", base.queued_grace_seconds),
            domain_check_interval_seconds=_int(
                env, "VIRTFLOW_DOMAIN_CHECK_INTERVAL", base.domain_check_interval_seconds
            ),
            host_offline_after=_int(env, "VIRTFLOW_HOST_OFFLINE_AFTER", base.host_offline_after),
            cpu_allocation_ratio=_float(
                env, "VIRTFLOW_CPU_ALLOCATION_RATIO", base.cpu_allocation_ratio
            ),
            ram_allocation_ratio=_float(
                env, "VIRTFLOW_RAM_ALLOCATION_RATIO", base.ram_allocation_ratio
            ),
            disk_allocation_ratio=_float(
                env, "VIRTFLOW_DISK_ALLOCATION_RATIO", base.disk_allocation_ratio
            ),
            reserved_vcpus=_int(env, "VIRTFLOW_RESERVED_VCPUS", base.reserved_vcpus),
            reserved_ram_mb=_int(env, "VIRTFLOW_RESERVED_RAM_MB", base.reserved_ram_mb),
            reserved_disk_gb=_int(env, "VIRTFLOW_RESERVED_DISK_GB", base.reserved_disk_gb),
            run_dir=Path(env["VIRTFLOW_RUN_DIR"]) if env.get("VIRTFLOW_RUN_DIR") else None,
            db_connect_timeout=_int(env, "VIRTFLOW_DB_CONNECT_TIMEOUT", base.db_connect_timeout),
            db_statement_timeout_ms=_int(
                env, "VIRTFLOW_DB_STATEMENT_TIMEOUT_MS", base.db_statement_timeout_ms
            ),
            login_fails_per_pair=_int(
                env, "VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT_ADDRESS", base.login_fails_per_pair
            ),
            login_fails_per_account=_int(
                env, "VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT", base.login_fails_per_account
            ),
            login_fails_per_address=_int(
                env, "VIRTFLOW_LOGIN_FAILS_PER_ADDRESS", base.login_fails_per_address
            ),
            login_fail_window_seconds=_int(
                env, "VIRTFLOW_LOGIN_FAIL_WINDOW", base.login_fail_window_seconds
            ),
            rate_limit_prefix=_str(env, "VIRTFLOW_RATE_LIMIT_PREFIX", base.rate_limit_prefix),
            metrics_token=_read_secret(env, "VIRTFLOW_METRICS_TOKEN"),
            metrics_dir=_optional_path(env, "VIRTFLOW_METRICS_DIR"),
            sse_max_seconds=_int(env, "VIRTFLOW_SSE_MAX_SECONDS", base.sse_max_seconds),
            image_store=_optional_path(env, "VIRTFLOW_IMAGE_STORE"),
            image_max_bytes=_int(env, "VIRTFLOW_IMAGE_MAX_BYTES", base.image_max_bytes),
            image_cache_dir=_optional_path(env, "VIRTFLOW_IMAGE_CACHE"),
            user_data_max_bytes=_int(env, "VIRTFLOW_USER_DATA_MAX_BYTES", base.user_data_max_bytes),
            guest_ssh_ports=_str(env, "VIRTFLOW_GUEST_SSH_PORTS", base.guest_ssh_ports),
            exact_count_limit=_int(env, "VIRTFLOW_EXACT_COUNT_LIMIT", base.exact_count_limit),
            job_event_retention_days=_int(
                env, "VIRTFLOW_JOB_EVENT_RETENTION_DAYS", base.job_event_retention_days
            ),
        )

    @property
    def db_timeouts(self) -> Timeouts:
        return Timeouts(self.db_connect_timeout, self.db_statement_timeout_ms)

    @property
    def capacity_policy(self) -> Policy:
        """The allocation ratios and reserved amounts every host starts from."""
        return Policy(
            self.cpu_allocation_ratio,
            self.ram_allocation_ratio,
            self.disk_allocation_ratio,
            self.reserved_vcpus,
            self.reserved_ram_mb,
            self.reserved_disk_gb,
        )

    @property
    def metrics_root(self) -> Path:
        """Where `virtflow serve` keeps the metric files of its gunicorn workers."""
        return self.metrics_dir or self.state_dir / "metrics"

    @property
    def images_dir(self) -> Path:
        """Where the controller keeps image files, one per image, named by its id."""
        return self.image_store or self.state_dir / "images"

    @property
    def image_cache(self) -> Path:
        """Where built images live: /var/cache/virtflow/images as root, else under ~/.cache."""
        if self.image_cache_dir is not None:
            return self.image_cache_dir
        if os.geteuid() == 0:
            return Path("/var/cache/virtflow/images")
        return Path.home() / ".cache" / "virtflow" / "images"

    @property
    def guest_ssh_port_range(self) -> tuple[int, int]:
        """VIRTFLOW_GUEST_SSH_PORTS as (lowest, highest); SettingsError when malformed."""
        low, _, high = self.guest_ssh_ports.partition("-")
        try:
            first, last = int(low), int(high)
        except ValueError:
            first, last = 0, -1
        if not MIN_FORWARDED_PORT <= first <= last <= MAX_PORT:
            raise SettingsError(
                f"VIRTFLOW_GUEST_SSH_PORTS must be LOW-HIGH with "
                f"{MIN_FORWARDED_PORT} <= LOW <= HIGH <= {MAX_PORT}"
            )
        return first, last

    @property
    def runs_dir(self) -> Path:
        """Where ansible-runner's private data dirs live, one per job."""
        return self.run_dir or self.state_dir / "runs"

    def _check_workers(self) -> None:
        if self.batch_limit < 1:
            raise SettingsError("VIRTFLOW_BATCH_LIMIT must be 1 or more")
        if self.workers < 0:
            raise SettingsError("VIRTFLOW_WORKERS must be 0 (one per host, plus one) or more")

    def check_serving(self) -> None:
        """Refuse to serve with a secret that would let anyone forge tokens."""
        secret = self.jwt_secret
        if secret.lower() in WEAK_SECRETS or len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                "VIRTFLOW_JWT_SECRET (or VIRTFLOW_JWT_SECRET_FILE) must be set to a random value "
                f"of at least {MIN_SECRET_BYTES} bytes"
            )
        limits = (
            self.login_fails_per_pair,
            self.login_fails_per_account,
            self.login_fails_per_address,
            self.login_fail_window_seconds,
        )
        if min(limits) < 1:
            raise SettingsError(
                "VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT_ADDRESS, VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT, "
                "VIRTFLOW_LOGIN_FAILS_PER_ADDRESS and VIRTFLOW_LOGIN_FAIL_WINDOW must be positive"
            )
        if self.scheduler_policy not in SCHEDULER_POLICIES:
            raise SettingsError(f"VIRTFLOW_SCHEDULER must be one of {sorted(SCHEDULER_POLICIES)}")
        if self.metrics_token and len(self.metrics_token.encode()) < MIN_METRICS_TOKEN_BYTES:
            raise SettingsError(
                f"VIRTFLOW_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_BYTES} bytes when set"
            )
        if self.trusted_proxies < 0:
            raise SettingsError("VIRTFLOW_TRUSTED_PROXIES must be 0 or more")
        policy = self.capacity_policy
        if min(policy.cpu_ratio, policy.ram_ratio, policy.disk_ratio) <= 0:
            raise SettingsError("VIRTFLOW_*_ALLOCATION_RATIO must be positive")
        if min(policy.reserved_vcpus, policy.reserved_ram_mb, policy.reserved_disk_gb) < 0:
            raise SettingsError("VIRTFLOW_RESERVED_* must be 0 or more")
        if self.user_data_max_bytes < 1:
            raise SettingsError("VIRTFLOW_USER_DATA_MAX_BYTES must be positive")
        if self.exact_count_limit < 1:
            raise SettingsError("VIRTFLOW_EXACT_COUNT_LIMIT must be positive")
        if self.job_event_retention_days < 0:
            raise SettingsError("VIRTFLOW_JOB_EVENT_RETENTION_DAYS must be 0 (keep) or more")
        self._check_workers()
        self.guest_ssh_port_range  # noqa: B018 - raises SettingsError when malformed
        if not 1 <= self.sse_max_seconds <= SSE_MAX_SECONDS_CEILING:
            raise SettingsError(
                f"VIRTFLOW_SSE_MAX_SECONDS must be 1 to {SSE_MAX_SECONDS_CEILING} "
                "(gunicorn kills a worker busy 30 s on one request)"
            )
