"""Configuration from the environment, validated once at start."""

from __future__ import annotations

import pytest

from app.config import SettingsError, load_settings


def test_bad_settings_stop_start_up_with_a_reason() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        load_settings({"PORT": "eighty"})
    with pytest.raises(SettingsError, match="RUN_SUBSCRIPTIONS"):
        load_settings({"RUN_SUBSCRIPTIONS": "perhaps"})
    assert load_settings({"PORT": "9000"}).port == 9000
