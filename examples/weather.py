"""The code examples/pipeline.py runs in Lambda: deployed beside lambda-executor's agent, which
imports it by name (`lambda-executor deploy weather-agent examples/weather.py --create-role`)."""


def summarise(readings):
    """Each station's count, sum, minimum and maximum over a chunk of [station, temperature] readings."""
    summary = {}
    for station, temperature in readings:
        count, total, low, high = summary.get(station, (0, 0.0, temperature, temperature))
        summary[station] = (count + 1, total + temperature, min(low, temperature), max(high, temperature))
    return summary
