"""A handler whose module does CPU-bound work when imported: its Init Duration shows the CPU share
the environment has during init."""

WARMED = sum(number * number for number in range(4_000_000))


def handler(event, context):
    return WARMED
