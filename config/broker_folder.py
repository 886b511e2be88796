"""The embedded mode's broker: kombu's filesystem transport, each message written whole before a
worker can take it.

kombu (5.7) creates a message's file in the folder under its final name (``<time>_<id>.<queue>.msg``)
and then writes it; a worker polling the folder in that moment moves the still empty file away,
fails to parse it and exits ("Unrecoverable error: JSONDecodeError"), and ``run_product`` stops the
web server and beat with it (the message is lost too). Seen with beat's outbox tick on a loaded
machine. Here the message is written under a name the worker does not take (it does not end in
``.<queue>.msg``) and renamed to its final name once whole: a rename within one folder is atomic.
Everything else is kombu's. Production uses Redis (``REDIS_URL``) and never loads this.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: written aside, then renamed into the folder the worker polls."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"{name}.partial")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(filesystem.dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
