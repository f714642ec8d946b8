"""The seed lab's handler (shared/seeds/000_*), its 5-second sleep shortened to 1 second."""

import time


def do_something(event, context):
    """This is the main function (handler) that will be called by AWS Lambda."""
    # Simulate slow processing
    time.sleep(1)
    return {
        "created_by": "your name",
        "message": "data was processed",
    }
