"""What a command shows on the terminal: its own summary, not Prefect's log (`-v` shows the log)."""

from __future__ import annotations

import logging

# Prefect's services log this while they drain their queues at the end of a run: nothing a user can act on
DRAINING = "Still processing items"
RUN_LINK = "View at "


class QuietTerminal(logging.Filter):
    """Drops, from the terminal only, Prefect's INFO lines (unless verbose), the draining warnings, and the link
    to a run on a temporary server, which is gone when the command ends (the server's own run log keeps all)."""

    def __init__(self, verbose: bool, temporary_server: bool) -> None:
        super().__init__()
        self.verbose, self.temporary_server = verbose, temporary_server

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(DRAINING):
            return False
        if self.temporary_server and message.startswith(RUN_LINK):
            return False
        return self.verbose or record.levelno >= logging.WARNING


def quiet_terminal(verbose: bool, temporary_server: bool) -> None:
    """Install QuietTerminal on every terminal handler of Prefect's loggers and the root logger (where Prefect's
    services log), replacing one installed before."""
    from prefect.logging.handlers import APILogHandler

    names = [name for name in logging.root.manager.loggerDict if name.startswith("prefect")] + [""]
    handlers = {handler for name in names for handler in logging.getLogger(name).handlers}
    for handler in handlers:
        if isinstance(handler, APILogHandler):
            continue
        for old in [f for f in handler.filters if isinstance(f, QuietTerminal)]:
            handler.removeFilter(old)
        handler.addFilter(QuietTerminal(verbose, temporary_server))
