"""Settings: the only place that reads the environment (prefix ``SKG_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service and CLI configuration, from ``SKG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SKG_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the embedded graph and the indexes.")
    backend: Literal["embedded", "neo4j"] = Field("embedded", description="Graph backend.")
    buffer_pool_mb: int = Field(1024, ge=64, description="Buffer pool of the embedded database, MiB.")
    neo4j_uri: str | None = Field(None, description="Bolt URI, e.g. neo4j://db.internal:7687.")
    neo4j_user: str | None = None
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    embedder: str = Field("use", description="Embedder: use (default), minilm, hashing, or st with embedder_model_dir.")
    embedder_model_dir: Path | None = Field(None, description="sentence-transformers model folder (embedder 'st').")
    host: str = Field("127.0.0.1", description="Address `salescopilot serve` listens on.")
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed to call the API from a browser, e.g. ["https://crm.example"].',
    )
    four_eyes: bool = Field(
        True, description="Publishing needs a second person: the publisher may not be the text's last editor."
    )
    upload_max_mb: int = Field(50, ge=1, le=2048, description="Largest ingest upload, MiB.")
    photo_max_mb: int = Field(10, ge=1, le=50, description="Largest competitor photo upload, MB (MiB).")
    photo_retention_days: int = Field(365, ge=1, description="Days a competitor photo file is kept (prices stay).")
    json_max_kb: int = Field(1024, ge=16, le=65536, description="Largest JSON request body, KiB.")
    switch_interval_ms: float = Field(
        0.5, gt=0, le=100, description="GIL switch interval of `salescopilot serve`, ms (Python's default is 5)."
    )
    blas_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="BLAS threads of a serving process (NumPy matrix products); 1: requests are small, a second thread "
        "spin-waits (a query embedding 4 ms CPU with one, 23 ms with two on 2 cores).",
    )
    write_slots: int = Field(2, ge=1, le=16, description="Write routes running at once in the service.")
    worker_threads: int = Field(
        40, ge=1, le=200, description="Threads running the service's blocking routes at once (anyio's default: 40)."
    )
    keys_file: Path | None = Field(
        None,
        description="The old SQLite file of API keys, imported into the graph store once (then renamed *.migrated); "
        "default data_dir/keys.sqlite.",
    )
    log_level: str = Field(
        "info", description="Log level of `salescopilot serve`'s workers (`serve --log-level` sets it for them)."
    )
    log_json: bool = Field(False, description="One JSON object per log line in `serve`'s workers (`--log-json`).")
    feed_poll_s: float = Field(
        1.0,
        ge=0,
        description="Seconds between two reads of the change log by a running service (0: do not follow it).",
    )
    tenants: list[str] = Field(
        default_factory=list,
        description='Tenants whose indexes a service builds at start, e.g. ["hz-pharma"] (empty: every tenant).',
    )
    chat_model: str | None = Field(
        None, description='Optional LangChain chat model "module.path:ClassName"; unset: extractive text only.'
    )
    chat_model_kwargs: dict[str, Any] = Field(default_factory=dict, description="JSON keyword arguments of it.")

    @property
    def graph_dir(self) -> Path:
        """Folder of the embedded graph database."""
        return self.data_dir / "graph"

    @property
    def keys_path(self) -> Path:
        """The old API key file (SQLite), imported into the graph store on the first start."""
        return self.keys_file or self.data_dir / "keys.sqlite"

    @property
    def photo_dir(self) -> Path:
        """Folder of the competitor photo store."""
        return self.data_dir / "photos"

    @property
    def index_root(self) -> Path:
        """Folder of the tenants' retrieval indexes, next to the graph."""
        return self.data_dir / "index"

    def index_dir(self, tenant: str) -> Path:
        """Folder of a tenant's retrieval indexes."""
        return self.index_root / tenant


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def export_for_workers(settings: Settings, *, log_level: str = "info", log_json: bool = False) -> None:
    """Put the settings a command line changed (data dir, backend, log options) into this process's environment.

    ``salescopilot serve --workers N`` starts N processes that read their settings from the environment; this is
    how options given on the command line reach them (without the log options a worker logged nothing but warnings).
    """
    os.environ["SKG_DATA_DIR"] = str(settings.data_dir)
    os.environ["SKG_BACKEND"] = settings.backend
    os.environ["SKG_LOG_LEVEL"] = log_level
    os.environ["SKG_LOG_JSON"] = "true" if log_json else "false"
