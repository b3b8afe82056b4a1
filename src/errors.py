"""The one exception type for mistakes a user can fix (bad name, bad file, bad data).

Entry points catch it and print its message on one line instead of a traceback.
"""


class UserError(Exception):
    """Something in the user's input or environment is wrong; the message says what and what to do."""
