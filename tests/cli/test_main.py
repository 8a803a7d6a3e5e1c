"""main() turns every way a command can end into the documented exit code."""

from __future__ import annotations

import typer

from imagestudio_nb import cli


def test_typer_exit_codes_reach_the_caller(monkeypatch):
    probe = typer.Typer()

    @probe.command()
    def fail(code: int):
        raise typer.Exit(code)

    @probe.command()
    def succeed():
        return None

    monkeypatch.setattr(cli, "app", probe)
    assert cli.main(["fail", "7"]) == 7
    assert cli.main(["succeed"]) == 0
    assert cli.main(["no-such-command"]) == 2
