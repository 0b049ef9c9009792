"""One `Settings` object, read from the environment (prefix ``LOTLINK_``) once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The clone's root: backend/lotlink/config.py -> ../../
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Everything configurable about a Lotlink process. Paths default to the clone's layout."""

    model_config = SettingsConfigDict(env_prefix="LOTLINK_", env_file=None, extra="ignore")

    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Where the embedded default keeps its state: chain, database, keys, blobs.",
    )
    contracts_dir: Path = Field(
        default=PROJECT_ROOT / "contracts",
        description="Solidity sources, committed build artifacts and the npm toolchain.",
    )

    # Chain. Without rpc_url the service manages a local anvil under var/.
    rpc_url: str | None = Field(
        default=None, description="A JSON-RPC endpoint; unset means the managed local anvil."
    )
    anvil_host: str = "127.0.0.1"
    anvil_port: int = 8545
    anvil_chain_id: int = 31337
    confirmations: int = Field(default=0, ge=0, description="Blocks an anchor needs on top.")
    solc_binary: Path | None = Field(
        default=None, description="A native solc; unset means one on PATH, else solcjs from npm."
    )
    deployer_key: SecretStr | None = Field(
        default=None,
        description="Hex private key that deploys to LOTLINK_RPC_URL; the managed chain uses "
        "anvil's first dev account instead.",
    )

    admin_key: SecretStr | None = Field(
        default=None,
        description="Hex private key of the contracts' admin (registers actors); the managed "
        "chain uses the deployer, anvil's first dev account.",
    )
    relayer_key: SecretStr | None = Field(
        default=None,
        description="Hex private key of the service's relayer, which pays gas and holds the "
        "anchorer role; the managed chain uses anvil's second dev account.",
    )

    relayer_gln: str = Field(
        default="0000000000017",
        description="The GLN the relayer is registered with as an actor (the operator's site).",
    )

    # Write path.
    anchor_mode: Literal["batch", "direct"] = Field(
        default="batch",
        description="batch: Merkle roots of many events; direct: one transaction per event.",
    )
    batch_size: int = Field(default=1024, ge=1, le=65_536, description="Events per batch, at most.")
    batch_interval_ms: int = Field(
        default=1000, ge=1, description="A batch closes this long after its first event."
    )
    anchorer_enabled: bool = Field(
        default=True,
        description="Run the anchorer inside the service; off when `lotlink anchorer` runs it "
        "alone (a lock keeps one anchorer per database either way).",
    )
    idempotency_key_hours: float = Field(
        default=24,
        gt=0,
        description="How long a checkpoint's Idempotency-Key is remembered (and its reuse for "
        "another request refused); the periodic rounds delete older keys.",
    )
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    keystore_password: SecretStr | None = Field(
        default=None,
        description="Passphrase of the custodial actors' keystores under var/keys; the managed "
        "chain generates a development one (var/keys/passphrase, mode 0600) when unset.",
    )
    keystore_scrypt_n: int = Field(
        default=2**18,
        ge=2**10,
        description="scrypt work factor of new keystores (eth-account's default; lower only in "
        "tests).",
    )

    # Indexer (chain -> SQL).
    indexer_enabled: bool = Field(
        default=True,
        description="Run the indexer inside the service; off when `lotlink indexer` runs it alone.",
    )
    indexer_max_range: int = Field(
        default=2000, ge=1, le=100_000, description="Most blocks asked of eth_getLogs at once."
    )
    indexer_poll_seconds: float = Field(
        default=0.5, gt=0, description="Pause between polls once the index has caught up."
    )
    indexer_window: int = Field(
        default=128,
        ge=2,
        description="Unconfirmed blocks whose hashes are kept to detect reorgs; a reorg deeper "
        "than this stops the indexer with an error.",
    )
    indexer_manifest_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a batch manifest fetch over HTTP may take."
    )
    indexer_manifest_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="First wait before an unavailable batch manifest is fetched again; each "
        "further attempt waits twice as long.",
    )
    indexer_manifest_retry_max_seconds: float = Field(
        default=600.0, gt=0, description="Longest wait between attempts at a batch manifest."
    )

    # Data.
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite at var/lotlink.db."
    )

    # HTTP.
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    public_rpc_url: str | None = Field(
        default=None,
        description='The JSON-RPC endpoint browsers use to check pages themselves ("check it '
        "yourself\"); unset means the service's own endpoint.",
    )

    # Consumer problem reports.
    report_rate_limit: int = Field(
        default=5, ge=1, description="Problem reports one client may send per window."
    )
    report_rate_window_seconds: int = Field(
        default=600, ge=1, description="The sliding window of report_rate_limit."
    )
    report_photo_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest photo a problem report may carry."
    )

    # Copied-QR detection (serialised scans; see lotlink.services.copies).
    copy_max_speed_kmh: float = Field(
        default=1000.0,
        gt=0,
        description="Faster than this between two scans of one serial is impossible travel.",
    )
    copy_min_distance_km: float = Field(
        default=50.0,
        ge=0,
        description="Scans closer than this are never impossible travel (places are rounded "
        "to about 11 km).",
    )
    copy_rate_limit: int = Field(
        default=20, ge=1, description="More scans of one serial than this in the window is a copy."
    )
    copy_rate_window_seconds: int = Field(default=3600, ge=1)
    scan_flush_seconds: float = Field(
        default=0.5, gt=0, description="Scans are buffered in memory and written this often."
    )

    # Certificate watch (see lotlink.services.certificate_watch).
    certificate_reminder_days: list[int] = Field(
        default=[30, 7],
        description="Remind a supplier this many days before a qualification certificate "
        "expires (one alert per certificate and threshold); JSON list in the environment.",
    )
    watch_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often the service runs the certificate watch."
    )
    report_first_response_hours: float = Field(
        default=12,
        gt=0,
        description="Elapsed hours from a report's arrival to its first response's deadline.",
    )
    report_resolution_hours: float = Field(
        default=48,
        gt=0,
        description="Elapsed hours from a report's arrival to its resolution's deadline.",
    )

    # Complaint alerts (see lotlink.services.complaint_alerts).
    alert_p_value: float = Field(
        default=0.001,
        gt=0,
        lt=1,
        description="A lot's complaints raise an alert when the one-sided Poisson test against "
        "its product's baseline gives a p-value below this.",
    )
    alert_min_complaints: int = Field(
        default=3, ge=1, description="Fewer complaints than this never raise a rate alert."
    )
    complaint_prior_rate: float = Field(
        default=1e-4,
        gt=0,
        description="Complaints per unit shipped assumed for a product with little history.",
    )
    complaint_prior_units: float = Field(
        default=20_000,
        gt=0,
        description="How many units of history the prior rate weighs as (its strength).",
    )
    complaint_burst_count: int = Field(
        default=3, ge=2, description="This many complaints about one lot within the burst window…"
    )
    complaint_burst_hours: float = Field(
        default=24,
        gt=0,
        description="…of this many hours raise a burst alert (when the "
        "baseline expects fewer than one in that window).",
    )
    complaint_market_days: float = Field(
        default=30,
        gt=0,
        description="The days over which a lot's complaints are assumed to arrive (spreads the "
        "expected complaints over time for the burst rule).",
    )
    alert_sweep_seconds: float = Field(
        default=300, gt=0, description="How often the service re-evaluates every lot's complaints."
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, description="How long one webhook delivery attempt may take."
    )
    webhooks_enabled: bool = Field(
        default=True, description="Deliver queued webhooks from inside the service."
    )
    periodic_enabled: bool = Field(
        default=True,
        description="Run the periodic rounds (complaint sweeps, certificate watch, webhook "
        "delivery, expired idempotency keys) inside the service.",
    )

    # Processes of `lotlink serve`.
    access_log: bool = Field(default=True, description="Log every request (uvicorn's access log).")
    workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Web worker processes; 0: one per CPU core. With more than one, the "
        "anchorer, the indexer and the periodic rounds run once, in the serving process beside "
        "the workers.",
    )

    @field_validator(
        "rpc_url",
        "database_url",
        "deployer_key",
        "admin_key",
        "relayer_key",
        "keystore_password",
        "public_rpc_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def managed_chain(self) -> bool:
        """True when this process owns the chain (a local anvil) rather than a remote endpoint."""
        return self.rpc_url is None

    @property
    def effective_rpc_url(self) -> str:
        return self.rpc_url or f"http://{self.anvil_host}:{self.anvil_port}"

    @property
    def effective_public_rpc_url(self) -> str:
        return self.public_rpc_url or self.effective_rpc_url

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'lotlink.db'}"

    @property
    def node_modules(self) -> Path:
        return self.contracts_dir / "node_modules"

    @property
    def build_dir(self) -> Path:
        return self.contracts_dir / "build"

    @property
    def chain_dir(self) -> Path:
        return self.var_dir / "chain"

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    @property
    def blobs_dir(self) -> Path:
        return self.var_dir / "blobs"

    @property
    def manifests_dir(self) -> Path:
        """Batch manifests by hash, written by the anchorer, read by the indexer."""
        return self.var_dir / "manifests"

    @property
    def deployment_file(self) -> Path:
        return self.var_dir / "deployment.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated on first use."""
    return Settings()
