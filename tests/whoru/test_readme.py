"""The README is a short user's manual whose every `whoru` command works as typed; the configuration
page names every setting; and the docs speak of the product alone."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from whoru.cli.main import main as whoru
from whoru.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
# Variables that options of the commands read, not the service's settings.
COMMAND_VARIABLES = {
    "WHORU_SERVER",
    "WHORU_API_KEY",
    "WHORU_PART_MB",
    "WHORU_RESUME_JOB",
    "WHORU_WORKER_BEAT",
    "WHORU_WORKER_NAME",
    "WHORU_HOST",
    "WHORU_PORT",
    "WHORU_API_WORKERS",
}


def readme_commands() -> list[list[str]]:
    """Return the words of every `whoru` command the README shows, in its code blocks and its tables."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    lines = [line.split(" #")[0] for block in blocks for line in block.splitlines() if line.startswith("whoru ")]
    cells = re.findall(r"^\| `(whoru [^`]+)`", README, re.M)
    return [shlex.split(re.sub(r"[\[\]]", " ", text.replace("\\|", "|")))[1:] for text in lines + cells]


def resolved(words: list[str]) -> tuple[click.Command, list[str]]:
    """Return the subcommand that words name, and the words left for it."""
    command, context = whoru, click.Context(whoru, info_name="whoru")
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name, command, words = command.resolve_command(context, words)
        context = click.Context(command, info_name=name, parent=context)
    return command, words


def test_the_readme_is_short():
    assert len(README.splitlines()) <= 350


def test_every_command_in_the_readme_names_a_real_command_and_real_options():
    commands = readme_commands()
    assert len(commands) >= 15
    for words in commands:
        command, rest = resolved(words)
        known = {option for param in command.params for option in param.opts + param.secondary_opts}
        typed = {word.split("=")[0] for word in rest if word.startswith("--")}
        assert typed <= known, (words, typed - known)


def test_the_configuration_page_names_every_setting_and_nothing_else():
    table = CONFIGURATION.split("| variable |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`(WHORU_[A-Z0-9_]+)`", table.split("\n", 2)[2]))
    rows = {re.match(r"\| `(WHORU_[A-Z0-9_]+)`", line).group(1) for line in table.splitlines()[2:]}
    assert set(Settings.variables()) <= named
    assert rows - COMMAND_VARIABLES <= set(Settings.variables())


def test_the_docs_name_no_development_rounds_or_issues():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert not re.search(r"\bsessions? \d|\bissues? (?:\d|#)|\bthe \w+ issue\b|\bdevelopment round", text, re.I), (
            page
        )


def test_every_link_between_the_pages_leads_to_a_file():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target.split("#")[0]).exists(), (page.name, target)
