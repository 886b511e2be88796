"""What the product's inbound hooks share (Jira's webhook, Slack's buttons; Jenkins next).

A request from outside that the hook will not take is answered with an HTTP status and a message
saying what is wrong, never a 500: the hook raises ``Refused`` while it checks the request.
"""


class Refused(Exception):
    """A request answered with an error: the HTTP status and the message for the sender."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
