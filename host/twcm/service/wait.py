"""Waiting in asyncio without losing a cancel."""
from __future__ import annotations

import asyncio


async def wake_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set or `seconds` pass. (Not asyncio.wait_for: on Python 3.11
    it can swallow a cancel that arrives as the wait ends, and the task would not stop.)"""
    try:
        async with asyncio.timeout(max(0.0, seconds)):
            await event.wait()
    except TimeoutError:
        pass
