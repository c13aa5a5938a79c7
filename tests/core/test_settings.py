import pytest

from core.settings import Settings, SettingsError


def test_precedence_flag_over_env_over_file(tmp_path):
    cfg = tmp_path / "gw.toml"
    cfg.write_text('influx_bucket = "from-file"\nbatch_size = 100\nhttp = "0.0.0.0:9000"\n')
    env = {"GRIDWATCH_INFLUX_BUCKET": "from-env", "GRIDWATCH_BATCH_SIZE": "200"}
    s = Settings.load(overrides={"batch_size": "300", "mqtt": None}, config_file=cfg, env=env)
    assert (s.influx_bucket, s.batch_size, s.http) == ("from-env", 300, "0.0.0.0:9000")


def test_unknown_keys_are_errors(tmp_path):
    cfg = tmp_path / "gw.toml"
    cfg.write_text('influx_bukket = "x"\n')
    with pytest.raises(SettingsError, match="unknown key.*influx_bukket"):
        Settings.load(config_file=cfg, env={})
    with pytest.raises(SettingsError, match="unknown environment variable GRIDWATCH_MQQT"):
        Settings.load(env={"GRIDWATCH_MQQT": "mqtt://x"})


def test_bad_values_say_which_key():
    with pytest.raises(SettingsError, match="influx_api"):
        Settings.load(overrides={"influx_api": "v3"}, env={})
    with pytest.raises(SettingsError, match="http.*not HOST:PORT"):
        Settings.load(overrides={"http": "8080"}, env={})


def test_secrets_do_not_print():
    s = Settings.load(overrides={"admin_token": "s3cret"}, env={})
    assert "s3cret" not in repr(s)
    assert s.admin_token.get_secret_value() == "s3cret"
