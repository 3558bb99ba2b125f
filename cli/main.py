"""The `whoru` console script: one root group, subcommands loaded only when run."""

from __future__ import annotations

import importlib

import click

# Each subcommand lives in the package it belongs to and is imported only when invoked,
# so `whoru api` never imports TensorFlow and `whoru --help` starts instantly.
SUBCOMMANDS = {
    "serve": (
        "whoru.cli.serve",
        "serve",
        "Run the whole service (Redis, database, API, one worker) on embedded defaults.",
    ),
    "api": ("whoru.api.cli", "api_command", "Run the HTTP API with gunicorn."),
    "worker": ("whoru.worker.cli", "worker_command", "Run a Celery worker that analyses images."),
    "db": ("whoru.cli.db", "db", "Manage the database schema."),
    "keys": ("whoru.cli.keys", "keys", "Create, list and revoke API keys."),
    "purge": ("whoru.cli.purge", "purge", "Remove old finished jobs and their files."),
    "analyze": ("whoru.cli.analyze", "analyze", "Print the faces of a few photos, analysed here without a server."),
    "submit": ("whoru.client.cli", "submit", "Submit files and folders as one job."),
    "wait": ("whoru.client.cli", "wait_command", "Wait for a job to end and write its results."),
    "status": ("whoru.client.cli", "status", "Show a job's status."),
    "results": ("whoru.client.cli", "results", "Download a job's results."),
    "jobs": ("whoru.client.cli", "jobs", "List your jobs."),
    "train": ("whoru.training.cli", "train_command", "Train a model on UTKFace."),
    "evaluate": ("whoru.training.cli", "evaluate_command", "Measure a model on UTKFace-named images."),
    "export": (
        "whoru.training.cli",
        "export_command",
        "Export a model's Keras networks to the ONNX files workers serve.",
    ),
    "quantize": (
        "whoru.training.cli",
        "quantize_command",
        "Quantize a model's ONNX networks to 8 bits, calibrated on its training faces.",
    ),
    "bench": ("whoru.bench.cli", "bench", "Measure throughput, stage times, memory and latency end to end."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the subcommand names."""
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one subcommand."""
        if cmd_name not in SUBCOMMANDS:
            return None
        module, attribute, _ = SUBCOMMANDS[cmd_name]
        return _showing_envvars(getattr(importlib.import_module(module), attribute))

    def invoke(self, ctx: click.Context):
        """Run the subcommand, showing a refused WHORU_* setting as one line instead of a traceback."""
        from whoru.settings import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as error:
            raise click.ClickException(str(error)) from error

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands with their help without importing them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)])


def _showing_envvars(command: click.Command) -> click.Command:
    """Make --help name the environment variable of every option that reads one."""
    for sub in [command, *getattr(command, "commands", {}).values()]:
        for param in sub.params:
            if isinstance(param, click.Option) and param.envvar:
                param.show_envvar = True
    return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="whoru")
def main() -> None:
    """whoru: age, gender and ethnicity for every face, in bulk."""
