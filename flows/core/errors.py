"""The base of every error a user can cause: the CLI prints these as one paragraph, without a traceback."""


class ValleyError(Exception):
    """An error in the input or a failed blocking check, with a message that says where and what."""
