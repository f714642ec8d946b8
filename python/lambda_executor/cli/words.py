"""How the command's output words a count: "1 function", "2 functions"."""


def counted(count: int, noun: str) -> str:
    """Words a count with its noun, singular for exactly one: ``counted(1, "function")`` is "1 function".

    Args:
        count: How many.
        noun: The noun in the singular, whose plural takes an "s".

    Returns:
        The count, with thousands separated by commas, and the noun.
    """
    return f"{count:,} {noun if count == 1 else noun + 's'}"
