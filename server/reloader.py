"""Hot reload: notice a change under the rules folder and swap in the new configuration whole.

Polls file names, sizes and modification times (cheap, works on every filesystem and in
containers, and every server process converges on the same files). A folder that fails
the checker leaves the previous configuration live and records the problems in
``Live.last_error`` (shown by ``/readyz``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from server import metrics
from server.config import Config, Live, load_config, watched_files

log = logging.getLogger("irasshai.reload")


def snapshot(rules_dir: Path) -> tuple:
    entries = []
    for path in watched_files(rules_dir):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between listing and stat: the next poll sees it gone
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class Reloader:
    def __init__(
        self,
        rules_dir: str | Path,
        live: Live,
        interval: float,
        transform: Callable[[Config], Config] | None = None,
        on_change: Callable[[Config], Awaitable[None]] | None = None,
        seen: tuple | None = None,
    ):
        """`seen`: the snapshot taken before the live configuration was loaded, so that an edit
        made while the server started is still noticed."""
        self.rules_dir = Path(rules_dir)
        self.on_change = on_change
        self.live = live
        self.interval = interval
        self.transform = transform
        self._seen = snapshot(self.rules_dir) if seen is None else seen

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # the watcher must outlive any surprise (logged with its traceback)
                metrics.reload_error.inc()
                log.exception("rules reload failed unexpectedly; keeping version %s", self.live.config.version)

    async def check(self) -> bool:
        """Reload if anything changed since the last look; True when a new version went live."""
        current = snapshot(self.rules_dir)
        if current == self._seen:
            return False
        self._seen = current
        config, problems = await asyncio.to_thread(load_config, self.rules_dir)
        if config is None:
            metrics.reload_error.inc()
            self.live.last_error = problems.lines()
            log.error(
                "rules in %s have %d problem(s); version %s stays live:\n%s",
                self.rules_dir,
                len(problems),
                self.live.config.version,
                "\n".join(problems.lines()),
            )
            return False
        if self.transform is not None:
            config = self.transform(config)
        metrics.reload_ok.inc()
        recovered = bool(self.live.last_error)
        self.live.last_error = []
        changed = config.version != self.live.config.version
        if changed:
            self.live.config = config
            if self.on_change is not None:
                await self.on_change(config)
        counts = ", ".join(f"{key}: {len(rules)} rules" for key, rules in config.rules.items())
        if recovered:
            # Said even when the fix restores the live version: the terminal's last line must not
            # stay the error that /readyz no longer reports.
            log.info(
                "rules in %s reloaded: the earlier problems are fixed; version %s is live (%s)",
                self.rules_dir,
                config.version,
                counts,
            )
        elif changed:
            log.info("rules version %s is live (%s)", config.version, counts)
        return changed
