"""The command line beside a running embedded service: a local admin channel recorded in the data folder.

The embedded store can be open in one process at a time, so while ``salescopilot serve`` holds it a command that
opens the store would fail. Instead the command goes through the service:

- at start the service writes ``<data_dir>/local-admin.json`` (mode 0600, written under a temporary name and
  renamed) with its loopback URL, its PID and a random token kept only in its memory and in that file (not in the
  key store); at a clean shutdown it removes the file;
- the CLI, when opening the store fails on the store's lock, reads the file and sends its whole command line (with
  every path argument made absolute against its own working directory, and whether its output is a terminal) to
  ``POST /v1/local/cli``;
- the service runs the same typer command in its own process over its open store and services, with the output
  captured, and answers the exit code, stdout and stderr, which the CLI prints as they are. Same code, same output,
  same errors and exit codes as when the CLI opens the store itself: where a command prints a path it was given, it
  prints it as typed (``as_typed``), not the absolute path it received.

The service never changes its working directory for a command (``os.chdir`` is process-wide: a relative path that
another thread opened meanwhile would have resolved against the CLI's folder); the CLI resolves its paths instead.

Who may use it: whoever can read a 0600 file of the data folder is the service's own OS user (or root), the user who
could stop the service and open the store anyway, so the token grants nothing they lack; the route admits it only
from a loopback client address and not through a proxy (a request carrying ``X-Forwarded-For`` or ``Forwarded``),
so a reverse proxy in front of the service does not carry it in from elsewhere.

A file left by a service that died (``kill -9``) is stale: its PID is gone, or nothing answers at its URL (the CLI
gives up connecting after ``CONNECT_TIMEOUT_S``); and since the dead process no longer holds the store's lock, the CLI
simply opens the store and removes the stale file.
"""

from __future__ import annotations

import contextvars
import http.client
import io
import ipaddress
import json
import os
import secrets
import signal
import sys
import threading
import traceback
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TextIO

import typer
from pydantic import BaseModel, Field
from typer.core import TyperArgument, TyperGroup, TyperOption

from api.cli_output import CliConsole, make_console
from api.request_model import RequestModel
from graph.files import remove

if TYPE_CHECKING:
    from api.settings import Settings
    from api.state import ServiceState

ARGV = "salescopilot.argv"
"""``ctx.meta`` key of the command line as typed (``api.cli`` records it; sent to the service)."""
FILE_NAME = "local-admin.json"
"""The channel's file in the data folder (mode 0600)."""
ROUTE = "/v1/local/cli"
CANCEL_ROUTE = "/v1/local/cli/cancel"
"""Cancels the command being run (the CLI's Ctrl-C): it stops at its next step, before it writes."""
TOKEN_HEADER = "X-Local-Admin"
CONNECT_TIMEOUT_S = 5.0
"""How long the CLI tries to reach the recorded service before it calls the file stale (a command may then run for
as long as it takes: an ingest of a large file)."""
_FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


class ServiceUnreachableError(Exception):
    """No running service answers for the data folder (no file, a stale file, a refused token)."""


@dataclass(frozen=True)
class LocalAdmin:
    """The channel of one running service: where it listens on loopback, its PID and its token."""

    url: str
    token: str
    pid: int

    @classmethod
    def for_listener(cls, host: str, port: int) -> LocalAdmin | None:
        """The channel of a service listening on ``host:port``; None when no loopback address reaches it.

        A wildcard listener (0.0.0.0, ::) is reached on 127.0.0.1 / ::1; a listener on one other address is not on
        loopback at all, and the channel is then off (the CLI says to stop the service).
        """
        if host in ("0.0.0.0", ""):  # noqa: S104 - naming the wildcard, not binding to it
            loopback = "127.0.0.1"
        elif host == "::":
            loopback = "[::1]"
        elif host == "localhost" or is_loopback(host):
            loopback = f"[{host}]" if ":" in host else host
        else:
            return None
        return cls(f"http://{loopback}:{port}", secrets.token_urlsafe(32), os.getpid())

    def write(self, data_dir: Path) -> Path:
        """Record the channel in ``data_dir`` (0600 from creation, then renamed over any stale file)."""
        path = data_dir / FILE_NAME
        tmp = data_dir / f".{FILE_NAME}.{self.pid}.tmp"
        remove(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"url": self.url, "token": self.token, "pid": self.pid}, f)
        os.replace(tmp, path)
        return path

    def remove(self, data_dir: Path) -> None:
        """Remove the file at shutdown if it is still this service's (not one a later service wrote)."""
        found = read(data_dir)
        if found is not None and secrets.compare_digest(found.token, self.token):
            remove(data_dir / FILE_NAME)


def read(data_dir: Path) -> LocalAdmin | None:
    """The channel recorded in ``data_dir``, or None (no file, or not one this code wrote)."""
    try:
        data = json.loads((data_dir / FILE_NAME).read_text(encoding="utf-8"))
        return LocalAdmin(url=str(data["url"]), token=str(data["token"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_stale(data_dir: Path) -> None:
    """Remove a file left by a service that died; call only while holding the store (no service can run then)."""
    remove(data_dir / FILE_NAME)


def is_loopback(host: str | None) -> bool:
    """Whether a client address is a loopback address (127.0.0.0/8, ::1, or IPv4 on loopback mapped into IPv6)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def admits(client_host: str | None, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request may use the channel at all: from a loopback address, and not relayed by a proxy."""
    return is_loopback(client_host) and not any(name.lower() in _FORWARDED for name, _ in headers)


# ---------------------------------------------------------------------------------------------- the request


class CliRequest(RequestModel):
    """A command line to run in the service, with what the CLI's own output would depend on."""

    argv: list[str] = Field(
        max_length=10_000, description="The arguments after `salescopilot`, with every path argument made absolute."
    )
    typed_paths: dict[str, str] = Field(
        default_factory=dict, description="Each absolute path of `argv` made from a relative one, with that one."
    )
    stdout_tty: bool = False
    stderr_tty: bool = False
    width: int | None = Field(None, ge=20, le=100_000, description="The terminal's width, when output is one.")
    color_system: str | None = Field(None, description="The CLI's colour system (rich's name), None for no colour.")
    stream: bool = Field(
        False,
        description='Answer the output as it is written (JSON lines: {"out": …}, {"err": …}, then the result), '
        "not at the end; the command can then be cancelled (`/v1/local/cli/cancel`, or by closing the connection).",
    )


class CliResult(BaseModel):
    """What the command did: its exit code and the text it wrote to stdout and stderr."""

    exit_code: int
    stdout: str
    stderr: str
    cancelled: bool = False
    """The command stopped at a step because the CLI cancelled it (nothing of it was written)."""


class CommandCancelled(Exception):  # noqa: N818 - what happened, not an error of the command
    """The CLI cancelled the command it runs through the service (Ctrl-C): raised at the command's next step.

    A step (``checkpoint``) comes before the command's write, whose transaction is all or nothing: raised there,
    nothing of the command is written.
    """


CANCELLED_EXIT = 130
"""The exit code of a cancelled command (as a shell reports a command stopped by Ctrl-C)."""


# ---------------------------------------------------------------------------------------------- the service's side


@dataclass
class CliSession:
    """One command line run inside the service: the service's state and the captured output."""

    state: ServiceState
    settings: Settings
    stdout: io.StringIO = field(default_factory=io.StringIO)
    stderr: io.StringIO = field(default_factory=io.StringIO)
    stdout_tty: bool = False
    stderr_tty: bool = False
    typed_paths: dict[str, str] = field(default_factory=dict)
    """Absolute path → the relative path the CLI was given (what a command prints, as it would alone)."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when the CLI cancels the command: its next ``checkpoint`` raises ``CommandCancelled``."""


class _Echoed(io.StringIO):
    """A session's captured stdout or stderr that also hands each write on as it happens (a streamed command)."""

    def __init__(self, which: str, sink: Callable[[str, str], None]) -> None:
        super().__init__()
        self.which, self.sink = which, sink

    def write(self, text: str) -> int:
        """Keep ``text`` and hand it on."""
        n = super().write(text)
        if text:
            self.sink(self.which, text)
        return n


_session: contextvars.ContextVar[CliSession | None] = contextvars.ContextVar("cli_session", default=None)
_one_at_a_time = threading.Lock()
_running: list[CliSession] = []
"""The session being run (at most one: ``_one_at_a_time``), for a cancel from another request."""

Runner = Callable[[list[str], CliConsole, CliConsole], None]
"""Runs a command line with the given stdout and stderr consoles (raises ``SystemExit`` with the exit code)."""
_runner: list[Runner] = []


def register_runner(runner: Runner) -> None:
    """Hand in the command line (``api.cli`` does at import): the channel runs commands through it."""
    _runner[:] = [runner]


def current_session() -> CliSession | None:
    """The command line being run through the service in this thread, or None (the CLI runs on its own)."""
    return _session.get()


def checkpoint() -> None:
    """A point where the command may stop: raises ``CommandCancelled`` if the CLI cancelled it (else nothing).

    Commands call it at their steps before they write (an ingest: before each file's validation and before the
    load, whose transaction is all or nothing); outside a session it does nothing.
    """
    session = _session.get()
    if session is not None and session.cancelled.is_set():
        raise CommandCancelled


def cancel_running() -> bool:
    """Ask the command being run to stop at its next step; whether one was running."""
    for session in list(_running):
        session.cancelled.set()
        return True
    return False


def as_typed(text: str) -> str:
    """``text`` with the absolute paths the CLI made of relative ones written as the CLI was given them.

    A command prints the paths it was given (an ingest's file column, ``exported … to DIR``, an error naming a file);
    through the service it was given absolute ones: printed as typed, the output is the same as alone. Outside a
    session, ``text`` as it is.
    """
    session = _session.get()
    if session is None or not session.typed_paths:
        return text
    for absolute in sorted(session.typed_paths, key=len, reverse=True):  # /a/b/c before /a/b
        text = text.replace(absolute, session.typed_paths[absolute])
    return text


def _is_path(param: Any) -> bool:
    """Whether a typer parameter takes paths (annotated ``Path``, ``list[Path]``, ``Path | None``)."""
    descriptor = getattr(param, "type_descriptor", None)

    def paths(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, PurePath):
            return True
        return any(paths(inner) for inner in typing.get_args(annotation))

    return descriptor is not None and paths(getattr(descriptor, "annotation", None))


def absolute_paths(command: Any, argv: Sequence[str], cwd: Path) -> tuple[list[str], dict[str, str]]:
    """``argv`` with every relative path argument of ``command`` (and its subcommands) made absolute against ``cwd``.

    ``command`` is the typer application's root command. Path arguments are the parameters annotated ``Path``
    (typer's ``type_descriptor.is_path``): positional ones, option values
    (``--opt v``, ``--opt=v``, ``-o v``, ``-ov``), and the relative defaults of options not given (``--rejects``
    defaults to ``rejects``), which are added explicitly. Returns the new argv and, for each path made absolute,
    the text the command would have seen alone (``str(Path(typed))``), for ``as_typed``.
    """
    out: list[str] = []
    typed: dict[str, str] = {}

    def fix(token: str, param: Any) -> str:
        if not _is_path(param) or token in ("", "-") or Path(token).is_absolute():
            return token
        absolute = str(cwd / token)
        typed[absolute] = str(Path(token))
        return absolute

    def walk(cmd: Any, tokens: list[str]) -> None:
        ctx = typer.Context(cmd, info_name=cmd.name, resilient_parsing=True)
        params = cmd.get_params(ctx)
        options = {name: p for p in params if isinstance(p, TyperOption) for name in (*p.opts, *p.secondary_opts)}
        start, given, positional = len(out), set[str | None](), list[int]()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if token == "--":
                out.append(token)
                positional += range(len(out), len(out) + len(tokens) - i)
                out.extend(tokens[i:])
                break
            if token.startswith("-") and token != "-":
                name, eq, value = token.partition("=")
                option = options.get(name if name.startswith("--") else token[:2])
                if option is None or option.is_flag or option.count:
                    out.append(token)
                    continue
                given.add(option.name)
                if eq and name.startswith("--"):
                    out.append(f"{name}={fix(value, option)}")
                elif not name.startswith("--") and len(token) > 2:  # -ovalue
                    out.append(token[:2] + fix(token[2:], option))
                else:
                    out.append(token)
                    for _ in range(max(option.nargs, 1)):
                        if i < len(tokens):
                            out.append(fix(tokens[i], option))
                            i += 1
                continue
            if isinstance(cmd, TyperGroup):  # the subcommand's name: the rest is the subcommand's
                out.append(token)
                sub = cmd.get_command(ctx, token)
                if sub is None:
                    out.extend(tokens[i:])
                else:
                    walk(sub, tokens[i:])
                break
            positional.append(len(out))
            out.append(token)
        arguments = [p for p in params if isinstance(p, TyperArgument)]
        spare = len(positional) - sum(a.nargs for a in arguments if a.nargs > 0)
        at = 0
        for argument in arguments:
            count = argument.nargs if argument.nargs >= 0 else max(spare, 0)
            for index in positional[at : at + count]:
                out[index] = fix(out[index], argument)
            at += count
        defaults: list[str] = []
        for p in params:
            if isinstance(p, TyperOption) and p.name not in given and not p.multiple and p.opts:
                default = p.default
                if isinstance(default, str | Path) and str(default) and _is_path(p):
                    fixed = fix(str(default), p)
                    if fixed != str(default):
                        defaults += [p.opts[-1] if p.opts[-1].startswith("--") else p.opts[0], fixed]
        out[start:start] = defaults

    walk(command, list(argv))
    return out, typed


class _Routed(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` of the service: a CLI session's buffer in its thread, the real stream elsewhere.

    ``print`` and ``csv.writer(sys.stdout)`` in a command, and rich's consoles (which look ``sys.stdout`` up when they
    write), land in the session's capture; the service's own logging and other threads are untouched.
    """

    def __init__(self, real: TextIO, which: str) -> None:
        super().__init__()
        self.real = real
        self.which = which

    def _target(self) -> tuple[TextIO, bool | None]:
        session = _session.get()
        if session is None:
            return self.real, None
        if self.which == "stdout":
            return session.stdout, session.stdout_tty
        return session.stderr, session.stderr_tty

    def write(self, text: str) -> int:
        """Write to the session's capture, or to the real stream."""
        return self._target()[0].write(text)

    def flush(self) -> None:
        """Flush the real stream (a capture needs none)."""
        target, _ = self._target()
        target.flush()

    def isatty(self) -> bool:
        """A session's output is a terminal when the CLI's is (colours, widths, progress as the CLI would show)."""
        target, tty = self._target()
        return target.isatty() if tty is None else tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """UTF-8 for a capture, the real stream's otherwise."""
        target, tty = self._target()
        return "utf-8" if tty is not None else getattr(target, "encoding", "utf-8")

    def fileno(self) -> int:
        """The real stream's descriptor."""
        return self.real.fileno()


def _install_streams() -> None:
    if not isinstance(sys.stdout, _Routed):
        sys.stdout = _Routed(sys.stdout, "stdout")
    if not isinstance(sys.stderr, _Routed):
        sys.stderr = _Routed(sys.stderr, "stderr")


def run_command(
    state: ServiceState,
    request: CliRequest,
    sink: Callable[[str, str], None] | None = None,
    session: CliSession | None = None,
) -> CliResult:
    """Run one command line of the CLI in this process over the open store; one at a time.

    The typer application is the CLI's own (``api.cli``): in a session its commands take the service's store,
    services and key store instead of opening them, and print to consoles made like the CLI's (terminal or not, its
    width and colours), whose text is captured and answered. ``sink`` receives each write as it happens
    (``("out" | "err", text)``: a streamed command); ``session`` is one made beforehand (``new_session``) so that the
    caller can cancel it.
    """
    if not _runner:
        raise RuntimeError("the command line is not loaded in this process (import api.cli)")
    _install_streams()
    with _one_at_a_time:
        session = session or new_session(state, request, sink)
        _running.append(session)
        token = _session.set(session)
        # the consoles write to the capture from any thread (a progress display refreshes from its own)
        out = make_console(terminal=request.stdout_tty, width=request.width, color_system=request.color_system,
                           file=session.stdout)  # fmt: skip
        err = make_console(stderr=True, terminal=request.stderr_tty, width=request.width,
                           color_system=request.color_system, file=session.stderr)  # fmt: skip
        code, cancelled = 0, False
        try:
            _runner[0](request.argv, out, err)  # its paths are absolute: no change of the process's directory
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except CommandCancelled:
            code, cancelled = CANCELLED_EXIT, True
            err.print("cancelled: the command stopped in the service before it wrote anything (its writes are one "
                      "transaction); nothing was written", soft_wrap=True)  # fmt: skip
        except Exception:  # noqa: BLE001 - a failing command answers its traceback, as it would print it
            session.stderr.write(traceback.format_exc())
            code = 1
        finally:
            _session.reset(token)
            _running.remove(session)
        return CliResult(exit_code=code, stdout=session.stdout.getvalue(), stderr=session.stderr.getvalue(),
                         cancelled=cancelled)  # fmt: skip


def new_session(state: ServiceState, request: CliRequest, sink: Callable[[str, str], None] | None = None) -> CliSession:
    """A session for ``request``: its output captured, and with ``sink`` handed on as it is written."""
    session = CliSession(state, state.settings, stdout_tty=request.stdout_tty, stderr_tty=request.stderr_tty,
                         typed_paths=dict(request.typed_paths))  # fmt: skip
    if sink is not None:
        session.stdout, session.stderr = _Echoed("out", sink), _Echoed("err", sink)
    return session


# ---------------------------------------------------------------------------------------------- the CLI's side


def forward(
    data_dir: Path,
    argv: list[str],
    *,
    holder_pid: int | None,
    terminal: dict[str, Any],
    command: Any,
    sink: Callable[[str, str], None] | None = None,
) -> CliResult:
    """Send a command line to the service recorded in ``data_dir``; raises ``ServiceUnreachableError`` with why not.

    ``holder_pid`` is the PID the store's lock names (when it does): a file of another process is stale.
    ``terminal`` carries ``stdout_tty``, ``stderr_tty``, ``width`` and ``color_system`` of the CLI's output.
    ``command`` is the CLI's root command: its path arguments are made absolute here (``absolute_paths``).
    ``sink``: the output is streamed to it as the command writes it (``("out" | "err", text)``), and Ctrl-C
    (``KeyboardInterrupt``) while waiting cancels the command in the service (see ``_streamed``); without it the
    output comes in the result at the end.
    """
    admin = read(data_dir)
    path = data_dir / FILE_NAME
    if admin is None:
        raise ServiceUnreachableError(f"no running service recorded its local admin channel ({path} is missing)")
    if holder_pid is not None and holder_pid != admin.pid:
        raise ServiceUnreachableError(f"{path} is stale: it names PID {admin.pid}, the store is held by {holder_pid}")
    if not _alive(admin.pid):
        raise ServiceUnreachableError(f"{path} is stale: its service (PID {admin.pid}) is not running")
    absolute, typed = absolute_paths(command, argv, Path.cwd())
    request = CliRequest(argv=absolute, typed_paths=typed, stream=sink is not None, **terminal)
    if sink is not None:
        return _streamed(admin, request.model_dump_json().encode(), sink)
    status, body = _post(admin, request.model_dump_json().encode())
    if status != 200:
        try:
            message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = body.decode("utf-8", "replace")[:300]
        raise ServiceUnreachableError(f"the service at {admin.url} refused the command ({status}): {message}")
    return CliResult.model_validate_json(body)


def _refused(admin: LocalAdmin, status: int, body: bytes) -> ServiceUnreachableError:
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = body.decode("utf-8", "replace")[:300]
    return ServiceUnreachableError(f"the service at {admin.url} refused the command ({status}): {message}")


def _streamed(admin: LocalAdmin, body: bytes, sink: Callable[[str, str], None]) -> CliResult:
    """POST a streamed command, hand its output to ``sink`` as it comes, and return the result line's result.

    Ctrl-C (SIGINT) asks the service to cancel the command (``CANCEL_ROUTE``) and reading goes on: the result then
    says whether it stopped before writing (``cancelled``) or had already finished. The first Ctrl-C is taken by a
    handler of its own, not as ``KeyboardInterrupt``, which could cut a line of the stream half read. A second
    Ctrl-C stops waiting; the closed connection cancels the command in the service too, at its next step.
    """
    connection = _connect(admin)
    stdout, stderr = io.StringIO(), io.StringIO()
    asked: list[bool] = []

    def on_interrupt(_signum: int, _frame: Any) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        sink("err", "\ncancelling the command in the service… (Ctrl-C again: stop waiting)\n")
        _cancel(admin)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_interrupt) if main else None
    try:
        connection.request("POST", ROUTE, body=body,
                           headers={"Content-Type": "application/json", TOKEN_HEADER: admin.token})  # fmt: skip
        response = connection.getresponse()
        if response.status != 200:
            raise _refused(admin, response.status, response.read())
        while True:
            line = response.readline()
            if not line:
                raise ServiceUnreachableError(f"{admin.url} (PID {admin.pid}) closed the stream before the result")
            record = json.loads(line)
            if "result" in record:
                result = CliResult.model_validate(record["result"])
                if asked and not result.cancelled:
                    sink("err", "too late to cancel: the command had finished in the service (its output above)\n")
                return result
            for which, text in record.items():
                (stdout if which == "out" else stderr).write(text)
                sink(which, text)
    except KeyboardInterrupt:
        sink("err", "stopped waiting; the service stops the command at its next step, before it writes (nothing "
                    "half-written)\n")  # fmt: skip
        return CliResult(exit_code=CANCELLED_EXIT, stdout=stdout.getvalue(), stderr=stderr.getvalue(), cancelled=True)
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise ServiceUnreachableError(f"{admin.url} (PID {admin.pid}) stopped answering: {e}") from e
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        connection.close()


def _cancel(admin: LocalAdmin) -> None:
    """Ask the service to cancel the command it runs for this CLI (best effort: the stream says what happened)."""
    try:
        connection = _connect(admin)
        try:
            connection.request("POST", CANCEL_ROUTE, body=b"", headers={TOKEN_HEADER: admin.token})
            connection.getresponse().read()
        finally:
            connection.close()
    except (ServiceUnreachableError, OSError, http.client.HTTPException):
        pass


def _connect(admin: LocalAdmin) -> http.client.HTTPConnection:
    """A connection to the service: connecting is given ``CONNECT_TIMEOUT_S``, then no time limit."""
    connection = http.client.HTTPConnection(admin.url.removeprefix("http://"), timeout=CONNECT_TIMEOUT_S)
    try:
        connection.connect()
    except OSError as e:
        connection.close()
        raise ServiceUnreachableError(
            f"{admin.url} (PID {admin.pid}) does not answer ({e.__class__.__name__}: {e})"
        ) from e
    assert connection.sock is not None
    connection.sock.settimeout(None)
    return connection


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _post(admin: LocalAdmin, body: bytes) -> tuple[int, bytes]:
    """POST the command; connecting is given ``CONNECT_TIMEOUT_S``, the command as long as it runs."""
    host_port = admin.url.removeprefix("http://")
    connection = http.client.HTTPConnection(host_port, timeout=CONNECT_TIMEOUT_S)
    try:
        try:
            connection.connect()
        except OSError as e:
            raise ServiceUnreachableError(
                f"{admin.url} (PID {admin.pid}) does not answer ({e.__class__.__name__}: {e})"
            ) from e
        assert connection.sock is not None
        connection.sock.settimeout(None)
        connection.request("POST", ROUTE, body=body,
                           headers={"Content-Type": "application/json", TOKEN_HEADER: admin.token})  # fmt: skip
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as e:
        raise ServiceUnreachableError(f"{admin.url} (PID {admin.pid}) stopped answering: {e}") from e
    finally:
        connection.close()
