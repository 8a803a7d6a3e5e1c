"""The package itself: importing it honours `[storage] auto_backup` and survives a broken config."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = ("import imagestudio_nb\n"
         "from imagestudio_nb.project.project import SAVE_HOOKS\n"
         "print(len(SAVE_HOOKS))\n")


def _hooks_after_import() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=60)


def test_auto_backup_setting_installs_the_save_hook_on_import(isolated_settings):
    config = isolated_settings / "config.toml"
    config.write_text("[storage]\nauto_backup = true\nconnection_string = 'UseDevelopmentStorage=true'\n")
    assert _hooks_after_import().stdout.strip() == "1"
    config.write_text("[storage]\nauto_backup = false\n")
    assert _hooks_after_import().stdout.strip() == "0"


def test_a_broken_config_does_not_break_the_import(isolated_settings):
    (isolated_settings / "config.toml").write_text("this is = = not toml")
    result = _hooks_after_import()
    assert result.returncode == 0, result.stderr
