"""How mail leaves: the SMTP settings (environment or a config file) and one connection.

The only module that imports ``smtplib``. Settings come from the environment
(``FOODCHAIN_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``,
``_SSL``), each overriding the same key of a TOML file (``FOODCHAIN_SMTP_CONFIG``, else
``~/.config/foodchain/smtp.toml`` when it exists)::

    host = "smtp.example.org"
    port = 587              # default; STARTTLS on 587, TLS from the start on 465
    user = "hub@example.org"
    password = "..."        # or FOODCHAIN_SMTP_PASSWORD; keep the file readable by you alone
    from = "Pôle alimentaire <hub@example.org>"

The password is never stored in the database, printed or shown in a settings' ``repr``.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from foodchain.errors import FoodchainError

PREFIX = "FOODCHAIN_SMTP_"
CONFIG_VAR = "FOODCHAIN_SMTP_CONFIG"
KEYS = ("host", "port", "user", "password", "from", "starttls", "ssl", "timeout")
SETTINGS_FIX = (
    "set FOODCHAIN_SMTP_HOST (and FOODCHAIN_SMTP_PORT, _USER, _PASSWORD, _FROM) or write "
    '~/.config/foodchain/smtp.toml (host = "smtp.example.org", port = 587, user, password, '
    "from); --dry-run needs none"
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = ""
    """The From address (``from``; default: ``user`` when it is an address)."""
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    tls: bool = False
    """TLS from the start (``ssl``, port 465) rather than STARTTLS."""
    timeout: float = 30.0
    source: str = "the environment"
    """Where the settings were read, for messages (never the password)."""


def default_config(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "foodchain" / "smtp.toml"


def _flag(value: Any, name: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise FoodchainError(f"{name} in {source}: {value!r} is not yes or no (true/false, 1/0)")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise FoodchainError(
            f"cannot read the SMTP settings file {path}: {exc.strerror or exc}. Fix: check "
            f"the path in {CONFIG_VAR}, or unset it"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise FoodchainError(f"the SMTP settings file {path} is not valid TOML: {exc}") from exc
    data = data.get("smtp", data)  # a [smtp] table, or the keys at the top
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise FoodchainError(
            f"the SMTP settings file {path} has unknown key(s) {', '.join(unknown)}: use "
            + ", ".join(KEYS)
        )
    return dict(data)


def smtp_settings(env: Mapping[str, str] | None = None) -> SmtpSettings:
    """The SMTP settings of the environment, over those of the config file; a message saying
    what to set when there is no server to send through."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: list[str] = []
    named = env.get(CONFIG_VAR)
    path = Path(named).expanduser() if named else default_config(env)
    if named or path.is_file():
        values.update(_read_file(path))
        sources.append(str(path))
    from_env = {key: env[PREFIX + key.upper()] for key in KEYS if env.get(PREFIX + key.upper())}
    if from_env:
        values.update(from_env)
        sources.insert(0, "the environment")
    source = " and ".join(sources) or "the environment"
    host = str(values.get("host") or "").strip()
    if not host:
        raise FoodchainError(f"no SMTP server is set to send through: {SETTINGS_FIX}")
    tls = _flag(values.get("ssl", False), "ssl", source)
    try:
        port = int(values.get("port") or (465 if tls else 587))
        timeout = float(values.get("timeout") or 30.0)
    except ValueError as exc:
        raise FoodchainError(f"SMTP port or timeout in {source}: {exc}") from exc
    if not 0 < port < 65536 or not 0 < timeout <= 600:
        raise FoodchainError(
            f"SMTP port {port} or timeout {timeout:g} s in {source}: give a port from 1 to "
            "65535 and a timeout from 1 to 600 s"
        )
    if "ssl" not in values and port == 465:
        tls = True
    starttls = _flag(values.get("starttls", port == 587 and not tls), "starttls", source)
    if starttls and tls:
        raise FoodchainError(
            f"SMTP settings in {source} ask for both STARTTLS and TLS from the start (ssl): "
            "choose one (port 587: starttls; port 465: ssl)"
        )
    user = str(values.get("user") or "")
    sender = str(values.get("from") or "") or (user if "@" in user else "")
    if "@" not in parseaddr(sender)[1]:
        raise FoodchainError(
            f"no sender address in {source}: set FOODCHAIN_SMTP_FROM (or from = ... in the "
            'file), e.g. "Pôle alimentaire <hub@example.org>"'
        )
    return SmtpSettings(
        host=host,
        port=port,
        sender=sender,
        user=user,
        password=str(values.get("password") or ""),
        starttls=starttls,
        tls=tls,
        timeout=timeout,
        source=source,
    )


class SendError(FoodchainError):
    """A message not sent. ``connection``: the server could not be reached or refused the
    session (login, TLS): the next messages would fail the same way."""

    def __init__(self, message: str, connection: bool = False) -> None:
        super().__init__(message)
        self.connection = connection


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {text}".strip()


class Mailer:
    """One SMTP session, opened on the first message and closed by ``close``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        where = f"the SMTP server {s.host}:{s.port}"
        try:
            if s.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"cannot reach {where}: {_describe(exc)}", connection=True) from exc
        try:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise SendError(
                f"{where} refused the login of {s.user} ({_reply(exc)}): check the user and "
                f"password ({s.source})",
                connection=True,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise SendError(
                f"{where} refused the session: {_describe(exc)}", connection=True
            ) from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = "; ".join(
                f"{address}: {code} {text.decode('utf-8', 'replace')}"
                for address, (code, text) in exc.recipients.items()
            )
            raise SendError(f"recipient refused by the server ({replies})") from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"refused by the server: {_reply(exc)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()  # the session is gone: the next message opens a new one
            raise SendError(f"the connection was lost: {_describe(exc)}") from exc
        if refused:
            raise SendError(f"recipient refused by the server: {sorted(refused)}")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
