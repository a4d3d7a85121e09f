"""[storage]: defaults, overrides, and one sentence naming the key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.store.settings import StorageSettings
from configfile import ConfigError

WHERE = "commander.toml [storage]"


def test_defaults_suit_a_farm():
    settings = StorageSettings.from_mapping({}, WHERE)
    assert settings.state_dir == Path("/var/lib/minerwatch") and settings.compaction
    assert (settings.keep_days("miners"), settings.keep_days("boards_5m"), settings.keep_days("gpus_1h")) == (14, 90, 1095)


def test_values_and_per_table_overrides():
    settings = StorageSettings.from_mapping(
        {"state_dir": "/srv/mw", "compaction": False, "raw_days": 7, "retention_days": {"boards": 3}}, WHERE)
    assert settings.state_dir == Path("/srv/mw") and not settings.compaction
    assert (settings.keep_days("miners"), settings.keep_days("boards")) == (7, 3)
    with pytest.raises(TypeError):
        settings.retention_days["pools"] = 1  # frozen all the way down


@pytest.mark.parametrize(("table", "named"), [
    ({"retension": 3}, "unknown key 'retension' in [storage] (did you mean 'retention_days'?)"),
    ({"raw_days": 0}, "'raw_days' in [storage] must be a whole number, 1 or more, not the integer 0"),
    ({"rollup_5m_days": True}, "'rollup_5m_days' in [storage] must be a whole number, 1 or more, not a boolean"),
    ({"rollup_1h_days": "3y"}, "'rollup_1h_days' in [storage] must be"),
    ({"state_dir": "relative/dir"}, "'state_dir' in [storage] must be an absolute path"),
    ({"compaction": "yes"}, "'compaction' in [storage] must be true or false"),
    ({"retention_days": {"fans": 3}}, "'fans' in [storage.retention_days] names no table; the tables are miners, "),
    ({"retention_days": {"miners": -1}}, "'miners' in [storage.retention_days] must be"),
    ({"retention_days": 7}, "[storage.retention_days] must be a table, not the integer 7"),
])
def test_each_mistake_is_one_sentence_naming_the_key(table, named):
    with pytest.raises(ConfigError) as raised:
        StorageSettings.from_mapping(table, WHERE)
    assert str(raised.value).startswith(f"{WHERE}: {named}")
