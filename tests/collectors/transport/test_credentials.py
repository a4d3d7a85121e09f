"""Credentials per driver: configured first, factory default otherwise, never shown."""

import logging
import re

import pytest

from collectors.credentials import FACTORY_DEFAULTS, Credential, Credentials, CredentialsFileError, load_file


def test_configured_credential_wins_over_the_factory_default():
    creds = Credentials({"antminer": {"username": "ops", "password": "farm-pw-1"}})
    assert creds.for_driver("antminer") == Credential("ops", "farm-pw-1")
    assert creds.for_driver("whatsminer") == Credential("admin", "admin")
    assert creds.for_driver("unknown-make") is None


@pytest.mark.parametrize("driver, username, password", [
    ("antminer", "root", "root"), ("braiins", "root", ""), ("whatsminer", "admin", "admin"),
    ("vnish", "admin", "admin"), ("goldshell", "admin", "123456789"),
    ("innosilicon", "admin", "admin"), ("auradine", "admin", "admin"),
    ("iceriver", "admin", "12345678"), ("luxos", "root", "root"), ("epic", "root", "letmein"),
    ("avalon", "root", "root"),
])
def test_factory_defaults(driver, username, password):
    assert Credentials().for_driver(driver) == Credential(username, password)


def test_an_empty_configured_password_is_kept():
    # Braiins OS ships without a password: an explicit "" must not fall back to a default.
    creds = Credentials({"luxos": {"username": "root", "password": ""}})
    assert creds.for_driver("luxos") == Credential("root", "")


def test_password_never_in_repr_str_or_log(caplog):
    credential = Credential("ops", "farm-pw-1")
    creds = Credentials({"antminer": {"username": "ops", "password": "farm-pw-1"}})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("using %s from %r (%s)", credential, creds, [credential])
    for text in (repr(credential), str(credential), repr(creds), caplog.text,
                 repr(list(FACTORY_DEFAULTS.values()))):
        assert "farm-pw-1" not in text and "letmein" not in text
    assert "ops" in repr(credential)


@pytest.mark.parametrize("entry", [{"password": "hunter2"}, {"username": "u", "pasword": "hunter2"}])
def test_malformed_entry_is_refused_without_echoing_the_secret(entry):
    with pytest.raises(ValueError) as error:
        Credentials({"antminer": entry})
    assert "hunter2" not in str(error.value)


def test_credentials_file_per_driver(tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text('[antminer]\nusername = "root"\npassword = "farm-secret"\n')
    path.chmod(0o600)
    credentials = load_file(path)
    assert credentials.for_driver("antminer") == Credential("root", "farm-secret")
    assert credentials.for_driver("whatsminer") == FACTORY_DEFAULTS["whatsminer"]


def test_credentials_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text('[antminer]\nusername = "root"\npassword = "farm-secret"\n')
    path.chmod(0o644)
    with pytest.raises(CredentialsFileError, match=r"readable by others \(mode 0644\); run: chmod 600"):
        load_file(path)


def test_credentials_file_mistake_names_the_file(tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text('[antminer]\nuser = "root"\n')
    path.chmod(0o600)
    with pytest.raises(CredentialsFileError, match="credentials.toml: credentials 'antminer' need a username"):
        load_file(path)


def test_a_credential_limited_to_subnets_goes_only_to_devices_there():
    creds = Credentials({
        "antminer": {"username": "root", "password": "farm-wide"},
        "antminer-west": {"driver": "antminer", "username": "root", "password": "west-only",
                          "subnets": ["10.2.0.0/16", "10.3.0.1-10.3.0.9"]},
        "whatsminer": {"username": "admin", "password": "north-only", "subnets": ["10.1.0.0/16"]},
    })
    assert creds.for_driver("antminer", "10.2.7.7").password == "west-only"  # the limited one first
    assert creds.for_driver("antminer", "10.3.0.9").password == "west-only"
    assert creds.for_driver("antminer", "10.3.0.10").password == "farm-wide"
    assert creds.for_driver("whatsminer", "10.1.0.5").password == "north-only"
    # Outside its subnets a device gets the factory login, which is no secret.
    assert creds.for_driver("whatsminer", "192.168.1.5") == FACTORY_DEFAULTS["whatsminer"]
    assert creds.for_driver("whatsminer") == FACTORY_DEFAULTS["whatsminer"]
    assert "north-only" not in repr(creds.for_driver("whatsminer", "10.1.0.5"))


@pytest.mark.parametrize("tables, message", [
    ({"antminr": {"username": "root", "password": "x"}}, "'antminr' is not a driver (did you mean 'antminer'?)"),
    ({"west": {"driver": "antmner", "username": "root"}}, "'antmner' is not a driver (did you mean 'antminer'?)"),
    ({"antminer": {"username": "root", "subnets": ["10.0.0.0/33"]}}, "'10.0.0.0/33' is not a network"),
    ({"antminer": {"username": "root", "subnets": "10.0.0.0/8"}}, "subnets must be a list"),
])
def test_a_misspelled_driver_or_subnet_is_refused_with_a_hint(tables, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Credentials(tables)
