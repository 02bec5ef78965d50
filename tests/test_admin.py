"""The administrator password of the Kilder page: `hfa admin-password`, the hash and its check."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from assistant.admin import PasswordHashError, hash_password, verify_password
from assistant.cli import main
from hfa_settings import load_settings

PASSWORD = "bostøtte-ICM-2025"


def test_the_hash_is_salted_and_verifies_only_its_password() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt:16384:8:1:")
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD.upper(), first)
    assert not verify_password("", first)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(ValueError, match="mindst 8 tegn"):
        hash_password("kort")


@pytest.mark.parametrize(
    "stored", ["hemmelig", "pbkdf2:1:2:3:abc:def", "scrypt:16384:8:1:!!:??", "scrypt:3:8:1:YWJj:YWJj"]
)
def test_a_hash_not_made_by_the_command_says_how_to_make_one(stored: str) -> None:
    with pytest.raises(PasswordHashError, match="hfa admin-password"):
        verify_password(PASSWORD, stored)


def test_the_command_reads_the_password_from_stdin_and_prints_the_settings_line(tmp_path, monkeypatch) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "admin-password"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert re.fullmatch(r'admin_password_hash = "scrypt:[^"\s]+"', line)
    settings_file = tmp_path / "hfa.toml"
    settings_file.write_text(line + "\n", encoding="utf-8")
    monkeypatch.setenv("HFA_SETTINGS", str(settings_file))
    assert verify_password(PASSWORD, load_settings().admin_password_hash)
    hashed = line.split('"')[1]
    monkeypatch.setenv("HFA_ADMIN_PASSWORD_HASH", hashed)  # as the environment variable too
    assert load_settings().admin_password_hash == hashed


def test_the_command_refuses_a_short_password(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "admin-password"], input="kort\n")
    assert result.exit_code == 1 and "mindst 8 tegn" in result.output and "admin_password_hash" not in result.output
