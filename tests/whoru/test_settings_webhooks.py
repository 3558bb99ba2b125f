"""The webhook settings: a signing secret Standard Webhooks can use, and the private-address switch."""

from __future__ import annotations

import pytest

from tests.utils.receiver import SECRET
from whoru.settings import Settings


def test_a_secret_that_cannot_sign_is_refused():
    with pytest.raises(ValueError, match="WHORU_WEBHOOK_SECRET"):
        Settings.from_env({"WHORU_WEBHOOK_SECRET": "whsec_not base64!"})


def test_webhook_settings_are_read():
    settings = Settings.from_env(
        {"WHORU_WEBHOOK_SECRET": SECRET, "WHORU_WEBHOOK_MAX_AGE": "60", "WHORU_WEBHOOK_ALLOW_PRIVATE": "true"}
    )
    assert (settings.webhook_secret, settings.webhook_max_age, settings.webhook_allow_private) == (SECRET, 60, True)
    assert Settings.from_env({}).webhook_allow_private is False
