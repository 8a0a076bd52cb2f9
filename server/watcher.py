"""Python files changing on disk under a workspace folder, as watchdog sees them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

# Events that change what a folder holds; opening or closing a file does not.
_CHANGES = {"created", "modified", "moved", "deleted"}


class Watcher(FileSystemEventHandler):
    """Calls `on_change()` when a Python file (or a folder that may hold some) is created,
    modified, moved or deleted under `root`, unless `ignored(path)` says it does not matter."""

    def __init__(
        self, root: Path, ignored: Callable[[Path], bool], on_change: Callable[[], None]
    ) -> None:
        self.root = root
        self.ignored = ignored
        self.on_change = on_change
        self._observer = Observer()

    def start(self) -> str | None:
        """Start watching; a line saying why not (the watch limit, a vanished folder) if it
        cannot, in which case saves reported by the editor still count."""
        try:
            self._observer.schedule(self, str(self.root), recursive=True)
            self._observer.start()
        except OSError as err:
            return f"cannot watch {self.root} for changes ({err}); only saves in the editor count"
        return None

    def stop(self) -> None:
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _CHANGES:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw.decode() if isinstance(raw, bytes) else raw)
            # A folder moved or deleted takes its files with it; a modified folder is noise.
            relevant = path.suffix == ".py" or (
                event.is_directory and event.event_type in ("moved", "deleted")
            )
            if relevant and not self.ignored(path):
                self.on_change()
                return
