"""The one exception type that reaches the user.

Every stage raises `RnnedgeError` (or a subclass) for bad input it can explain in one line:
a missing file, a malformed model, an op it cannot handle. The CLI prints `error: <message>`
and exits with code 2; anything else escaping a stage is a bug in rnnedge.
"""


class RnnedgeError(Exception):
    """A user-facing error: the message is one line that says what is wrong and, where it
    helps, what to do about it."""
