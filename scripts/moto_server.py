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

Usage: moto_server.py [-H HOST] [-p PORT]
"""

import argparse
import json
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # moto builds some URLs (SQS queue URLs) from this.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    compact_redrive_policy()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, SerialisedDynamoDB(app), threaded=True)


if __name__ == "__main__":
    main()
