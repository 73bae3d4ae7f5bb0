"""TapAnalytics: the settings, the run context, the resource specs and the stream list."""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import click
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_analytics.auth import auths_in, secret_params_of, secrets_of
from tap_analytics.client import AnalyticsStream
from tap_analytics.config import ConfigErrors, ResourceSpec, header_secrets, resolve_resources
from tap_analytics.config.dependents import dependency_order
from tap_analytics.context import RunContext
from tap_analytics.errors import SECRETS, TapAnalyticsError, install_secret_filter, redact
from tap_analytics.output import SingerOutput
from tap_analytics.schema_inference import infer_schema, key_only_schema, with_parent_fields
from tap_analytics.settings import CONFIG_SCHEMA
from tap_analytics.streams import BUILTIN_STREAMS, stream_class

TOKEN_CACHE_FILE = "tap-analytics-token-cache.json"  # noqa: S105 (a file name)
#: Where the command line's --config and --state files are noted (click's context meta).
CLI_CONFIG_PATH, CLI_STATE_PATH = "tap_analytics.config_path", "tap_analytics.state_path"


class TapAnalytics(Tap):
    """Singer tap for analytics REST APIs described in dlt's rest_api_source shape."""

    name = "tap-analytics"
    package_name = "tap-analytics"
    message_writer_class = SingerOutput
    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        install_secret_filter()
        # Discovery skips the SDK's validation; the resources are checked always (without
        # requiring credentials or the API, which discovery of built-ins does not need).
        try:
            _ = self.resource_specs
        except ConfigErrors as exc:
            raise ConfigValidationError("Config validation failed", errors=exc.errors) from None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's schema check plus ours, every problem one line, before a sync."""
        schema_errors = super()._validate_config(raise_errors=False)
        self._register_secrets()
        try:
            resolve_resources(self.config, BUILTIN_STREAMS, for_sync=True)
        except ConfigErrors as exc:
            # Ours name the setting and the fix; the SDK's schema messages would only
            # repeat some of them less clearly.
            errors = exc.errors
        else:
            errors = schema_errors
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors

    def _register_secrets(self) -> None:
        """Every secret of the config is redacted from logs and errors, even when the
        config is invalid (the validation lines must not echo one)."""
        for auth in auths_in(self.config):  # client.auth and every endpoint.auth
            SECRETS.add(*secrets_of(auth))
            for name in secret_params_of(auth):
                SECRETS.add_param_name(name)
        SECRETS.add(*header_secrets(self.config))

    @cached_property
    def resource_specs(self) -> list[ResourceSpec]:
        self._register_secrets()
        return resolve_resources(self.config, BUILTIN_STREAMS, for_sync=False)

    @cached_property
    def run(self) -> RunContext:
        """What the streams of this run share (session, authenticator, rate gate)."""
        return RunContext(self.config, token_cache_path=self.token_cache_path)

    @property
    def token_cache_path(self) -> Path | None:
        """Where rotated refresh tokens are kept: the setting, else beside the state
        (Meltano's project, or the --state / --config file of a plain CLI run)."""
        configured = self.config.get("token_cache_path")
        if configured:
            return Path(str(configured)).expanduser()
        if project := os.environ.get("MELTANO_PROJECT_ROOT"):
            return Path(project) / ".meltano" / "tap-analytics" / TOKEN_CACHE_FILE
        # Only within the command-line run that named them: a later tap in the same
        # process (tests, a Python caller) must not write beside another run's files.
        context = click.get_current_context(silent=True)
        cli = context.meta if context is not None else {}
        for given in (cli.get(CLI_STATE_PATH), cli.get(CLI_CONFIG_PATH)):
            if given:
                return Path(given).resolve().parent / TOKEN_CACHE_FILE
        return None

    # --- command line -----------------------------------------------------------------

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Remember the config file's place (rotated tokens are kept beside it), and say
        which file is missing or not JSON, and where, before the SDK reads them."""
        files = [v for v in value if v != "ENV"]
        for path in files:
            check_config_file(path)
        ctx.meta[CLI_CONFIG_PATH] = files[-1] if files else None
        return super().cb_config(ctx, param, value)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        state = kwargs.get("state")
        click.get_current_context().meta[CLI_STATE_PATH] = getattr(state, "name", None)
        super().invoke(*args, **kwargs)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """On SIGTERM/SIGINT: emit the STATE reached (it names the page to resume at),
        then exit non-zero -- an interrupted sync is not a successful one. In BATCH mode,
        or if the signal
        interrupted a write to stdout (a slow target), nothing more is written: part of a
        line may be out, and the STATE emitted before this page still lets the next run
        resume."""
        name = signal.Signals(signum).name
        writer = self.message_writer
        try:
            if isinstance(writer, SingerOutput) and writer.mid_write:
                self.logger.error(
                    "Interrupted by %s while writing output: the last STATE written stands", name
                )
            elif self.config.get("batch_config"):
                # The records read since the last BATCH message are in no file yet: the
                # STATE reached would claim them. The one after the last BATCH stands.
                self.logger.error(
                    "Interrupted by %s: the STATE after the last BATCH message lets the next "
                    "run resume",
                    name,
                )
            else:
                self._state_writer.write_state(self.state)
                sys.stdout.flush()
                self.logger.error(
                    "Interrupted by %s: the last STATE lets the next run resume where this "
                    "one stopped",
                    name,
                )
        finally:
            os._exit(128 + signum)

    def discover_streams(self) -> list[AnalyticsStream]:
        """One stream per resource, every parent built before its children (a child's
        class names its parent's, so the SDK links them and skips children at top level)."""
        streams: dict[str, AnalyticsStream] = {}
        for spec in dependency_order(self.resource_specs):
            parent = streams[spec.parent.resource] if spec.parent is not None else None
            cls = stream_class(spec, parent=type(parent) if parent is not None else None)
            stream = cls(self, self.run, self._schema_for(spec, cls, parent))
            stream.parent_stream = parent
            streams[spec.name] = stream
        return list(streams.values())

    def _schema_for(
        self, spec: ResourceSpec, cls: type[AnalyticsStream], parent: AnalyticsStream | None
    ) -> dict[str, Any]:
        if spec.schema is not None:
            schema = copy.deepcopy(dict(spec.schema))
        elif spec.builtin is not None:
            schema = spec.builtin.builtin_schema()
        else:
            probe = cls(self, self.run, key_only_schema(spec.primary_key))
            probe.parent_stream = parent
            schema = infer_schema(spec, probe.sample_rows)
        return with_parent_fields(schema, spec, parent.schema) if parent is not None else schema

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with failures reported as one secret-free line."""
        command = super().get_singer_command()
        install_secret_filter()
        command.excepthook = _one_line_excepthook(command.excepthook)  # type: ignore[attr-defined]
        # --discover runs while the arguments are parsed, before the command installs
        # its hook: install it now so discovery errors are one line too.
        sys.excepthook = command.excepthook  # type: ignore[attr-defined]
        command.params.append(
            click.Option(
                ["--log-level"],
                type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
                expose_value=False,
                is_eager=True,
                callback=_set_log_level,
                help="Log level (debug also shows tracebacks). Default: info, or "
                "TAP_ANALYTICS_LOGLEVEL.",
            )
        )
        return command


def check_config_file(path: str) -> None:
    """A `--config` file that cannot be read, is not JSON or holds no object is one
    clear line naming the file (and the position of a JSON error)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"--config {path}: no such file"
        raise TapAnalyticsError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        msg = f"--config {path}: cannot be read ({reason})"
        raise TapAnalyticsError(msg) from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"--config {path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise TapAnalyticsError(msg) from None
    if not isinstance(parsed, dict):
        msg = f"--config {path}: must hold a JSON object (the config), not a {type(parsed).__name__}"
        raise TapAnalyticsError(msg)


def _set_log_level(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        logging.getLogger().setLevel(value.upper())


def _one_line_excepthook(default: Callable[..., None]) -> Callable[..., None]:
    """A user error is one line; a traceback only when the log level is DEBUG."""

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt) or logging.getLogger().isEnabledFor(
            logging.DEBUG
        ):
            default(exc_type, exc, tb)
            return
        logger = logging.getLogger("tap-analytics")
        if isinstance(exc, ConfigValidationError):
            # Raised outside the SDK's own handler (--test builds the tap while the
            # arguments are parsed): the config's lines, as a sync shows them.
            for line in exc.errors or [str(exc)]:
                logger.error("%s", redact(line).replace("\n", " "))
            return
        message = redact(str(exc.args[0]) if exc.args else exc_type.__name__)
        if not isinstance(exc, TapAnalyticsError):
            message = (
                f"unexpected {exc_type.__name__}: {message} (set TAP_ANALYTICS_LOGLEVEL=DEBUG "
                "for the traceback)"
            )
        logger.error("%s", message.replace("\n", " "))

    return excepthook
