"""Configuration: the schema (``models``), loading with clear errors (``loading``), secrets."""

from config.loading import LoadedConfig, find_config_path, load_config, validate_config
from config.models import (
    CutConfig,
    FileSource,
    GitHubSource,
    JiraSource,
    OutputsConfig,
    Pacing,
    PriosyncConfig,
    ScheduleConfig,
    ScoringConfig,
    ServerConfig,
    Source,
)
from config.secrets import (
    BasicCredentials,
    BearerCredentials,
    GitHubAppCredentials,
    github_credentials,
    jira_credentials,
    read_secret,
)

__all__ = [
    "BasicCredentials",
    "BearerCredentials",
    "CutConfig",
    "FileSource",
    "GitHubAppCredentials",
    "GitHubSource",
    "JiraSource",
    "LoadedConfig",
    "OutputsConfig",
    "Pacing",
    "PriosyncConfig",
    "ScheduleConfig",
    "ScoringConfig",
    "ServerConfig",
    "Source",
    "find_config_path",
    "github_credentials",
    "jira_credentials",
    "load_config",
    "read_secret",
    "validate_config",
]
