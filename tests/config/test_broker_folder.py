"""The embedded broker (kombu's filesystem transport in ``var/broker/``): a worker polling the folder
never takes a message before it is whole.

kombu 5.7 creates a message's file under its final name, then writes it. A worker polling in that
moment moved the empty file away, failed to parse it ("Unrecoverable error: JSONDecodeError") and
exited, and ``run_product`` stopped the web server and beat with it; seen while beat sent its outbox
tick on a loaded machine. The message was lost too.
"""

from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from config.broker_folder import Transport
from tests.config.test_settings import clean_env, run, settings_of

QUEUE = "celery"


@pytest.fixture
def channel(tmp_path):
    folder, processed = tmp_path / "out", tmp_path / "processed"
    folder.mkdir()
    processed.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(processed),
        "store_processed": False,
    }
    with Connection("filesystem://", transport=Transport, transport_options=options) as connection:
        yield connection.default_channel


def test_a_worker_polling_while_a_message_is_written_finds_nothing_then_the_whole_message(channel, monkeypatch):
    seen_while_writing = []
    encode = filesystem.dumps

    def encode_while_a_worker_polls(payload):
        # The transport encodes the message once it has opened where it writes it: a worker polls now.
        try:
            seen_while_writing.append(channel._get(QUEUE))
        except Empty:
            seen_while_writing.append("nothing")
        except Exception as error:  # noqa: BLE001 - what the worker met is the finding
            seen_while_writing.append(repr(error))
        return encode(payload)

    monkeypatch.setattr(filesystem, "dumps", encode_while_a_worker_polls)
    channel._put(QUEUE, {"body": "deliver the outbox"})

    assert seen_while_writing == ["nothing"]
    assert channel._get(QUEUE) == {"body": "deliver the outbox"}


TRANSPORT_OF = """
from config.celery import app
for url in ("filesystem://", "memory://"):
    app.conf.broker_url = url
    print(type(app.connection_for_write().transport).__module__)
"""


def test_filesystem_urls_take_it_and_other_urls_keep_their_own(tmp_path):
    """Every process loading the Celery app (web, worker, beat) gets it for ``filesystem://``: the
    embedded broker's URL; the tests' ``memory://`` and Redis keep kombu's transports."""
    env = clean_env(tmp_path, EMBEDDED="1")
    done = run(env, "-c", TRANSPORT_OF)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["config.broker_folder", "kombu.transport.memory"]
    assert settings_of(env, "CELERY_BROKER_URL") == ["'filesystem://'"]
