"""Configuration: defaults in one place, overridden by the environment."""

import pytest

from api.config import SETTINGS, load_config


def test_every_setting_has_a_default_when_the_environment_is_empty():
    config = load_config({})
    assert set(SETTINGS) <= set(config)
    assert config["DATABASE_URL"].startswith("sqlite:///")


def test_environment_variables_override_defaults_with_their_type():
    config = load_config({"TOKEN_TTL_DAYS": "7", "DATABASE_URL": "postgres://u@h/db"})
    assert config["TOKEN_TTL_DAYS"] == 7
    assert config["DATABASE_URL"] == "postgresql://u@h/db"


def test_a_badly_typed_value_stops_start_up_with_its_name():
    with pytest.raises(SystemExit, match="TOKEN_TTL_DAYS"):
        load_config({"TOKEN_TTL_DAYS": "a week"})


def test_the_readme_lists_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in readme]
    assert not missing, f"README lacks {missing}"
