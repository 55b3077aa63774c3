#!/usr/bin/env python3
"""moto's server with DynamoDB requests serialised.

moto 5.x runs TransactWriteItems by copying the tables it touches and
restoring the copy when a condition fails. The server answers requests on
several threads, so a failed transaction that overlaps another request's
successful write silently undoes that write. Real DynamoDB is atomic per
request; serialising every DynamoDB request restores that. S3 and SQS
requests (SQS long polls in particular) stay concurrent.

It also answers SQS's RedrivePolicy attribute as compact JSON, as SQS does;
moto's spaced JSON made Terraform plan a change to every queue with a DLQ.

And it keeps a FIFO message group with messages in flight from every other
receiver, as SQS does. moto decides which groups are in flight once, when a
ReceiveMessage starts: two long polls waiting on one queue both wake when
messages come, and each takes messages of the same group (one session's
writes, handed to two writer instances at once and run out of order). Here
receives look at the queue one at a time, each with the groups in flight
at that moment, and a long poll waits between looks.

And it serves over waitress instead of werkzeug's development server, which
closes every connection after its response (it cannot skip an unread
request body before the next request line). AWS's endpoints keep
connections open and the SDK pools them; against werkzeug every SDK call
paid for a new TCP connection, a cost the functions do not have on AWS
that showed in their CPU per write. waitress keeps HTTP/1.1 connections
open. Each SQS long poll holds one of its threads while it waits, hence
many threads.

Usage: moto_server.py [-H HOST] [-p PORT]
"""

import argparse
import json
import os
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
import waitress

DYNAMODB_LOCK = threading.Lock()


def is_dynamodb(environ):
    """DynamoDB's JSON protocol names its operation in X-Amz-Target
    ("DynamoDB_20120810.UpdateItem"); the SigV4 scope names the service."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    auth = environ.get("HTTP_AUTHORIZATION", "")
    return target.startswith("DynamoDB") or "/dynamodb/aws4_request" in auth


class SerialisedDynamoDB:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not is_dynamodb(environ):
            return self.app(environ, start_response)
        with DYNAMODB_LOCK:
            # Drain the response inside the lock: a WSGI app may do its work
            # lazily while the body is iterated.
            response = self.app(environ, start_response)
            try:
                body = list(response)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
            return body


def compact_redrive_policy():
    from moto.sqs.models import Queue

    spaced = Queue.attributes.fget

    def attributes(self):
        result = spaced(self)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)


# One ReceiveMessage looks at the queues at a time.
SQS_RECEIVE_LOCK = threading.Lock()
# A waiting receive looks again when a message is sent or deleted, and at
# least this often (a message whose visibility timeout ends wakes nobody).
SQS_RECEIVE_LOOK_S = 0.5


def fifo_groups_held_while_in_flight():
    from moto.sqs.models import Queue, SQSBackend

    look = SQSBackend.receive_message

    def receive_message(
        self,
        queue_name,
        count,
        wait_seconds_timeout,
        visibility_timeout,
        message_attribute_names=None,
    ):
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with SQS_RECEIVE_LOCK:
                # No wait: one look at the queue, with the groups in flight now.
                found = look(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            with queue._messages_lock:
                queue._messages_lock.wait(min(left, SQS_RECEIVE_LOOK_S))

    SQSBackend.receive_message = receive_message

    delete = Queue.delete_message

    def delete_message(self, receipt_handle):
        delete(self, receipt_handle)
        # The message's group may be free now: wake the waiting receives.
        with self._messages_lock:
            self._messages_lock.notify_all()

    Queue.delete_message = delete_message


# Requests served at once: every client session and function instance keeps
# an SQS long poll waiting, each on a thread of its own.
THREADS = 512
# Connections open at once.
CONNECTIONS = 4096


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # moto builds some URLs (SQS queue URLs) from this.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    compact_redrive_policy()
    fifo_groups_held_while_in_flight()
    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(
        SerialisedDynamoDB(app),
        host=args.host,
        port=args.port,
        threads=THREADS,
        connection_limit=CONNECTIONS,
        # poll(), not select(): more than 1,024 open sockets.
        asyncore_use_poll=True,
        # A connection idle this long is closed (the SDK opens another).
        channel_timeout=300,
        ident="moto",
    )


if __name__ == "__main__":
    main()
