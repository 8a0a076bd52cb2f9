"""The language server: thin LSP handlers over the engine, the state cache, the models and the
learner."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pathspec
from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.workspace import TextDocument

from . import settings as settings_module
from .engine import Cancelled, Engine, Request
from .learning import Learner
from .models import Models
from .state_cache import StateCache
from .worker import BACKGROUND, Worker

log = logging.getLogger(__name__)
VERSION = "0.1.0"
TRIGGERS = [".", "(", "[", "{", ",", "=", ":", " "]
# Seconds without edits or requests before documents are read ahead again: while the user types,
# each keystroke's request finds the model thread idle instead of behind a slice of reading
# (measured: 9 ms of a 17 ms inline p50 was that wait), and an edit near the top of a file is
# not followed by re-reading everything after it at every keystroke.
READ_DELAY = 1.0


class Protocol(LanguageServerProtocol):
    """pygls's document sync, changed in two ways. The state cache learns where each change
    begins from the text as it was before that change: pygls applies a change before the handler
    runs, and a position out of range converts to another place once the text has changed. A
    change to a document that is not open is a client's mistake: logged and dropped, not shown to
    the user as an error in the server."""

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        server: Server = self._server  # type: ignore[assignment]
        uri = params.text_document.uri
        if server.document(uri) is None:
            log.warning("a change to %s, which is not open: ignored", uri)
            return
        for change in params.content_changes:
            server.before_change(uri, change)
            self.workspace.update_text_document(params.text_document, change)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


class Server(LanguageServer):
    def __init__(
        self,
        model: Path | None = None,
        cold_start_minutes: float = 3.0,
        use_cache: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            "lstm-complete",
            VERSION,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            **{"protocol_cls": Protocol, **kwargs},
        )
        self.settings = settings_module.Settings()
        self.cache = StateCache()
        self.engine = Engine(self.cache, use_cache)
        self.worker = Worker()
        self.models = Models(self, model)
        self.learner = Learner(self.models, self, cold_start_minutes)
        self.models.loaded = self.learner.model_loaded
        # per document and kind of request, the id of the newest: it supersedes older ones
        self.newest: dict[tuple[str, str], int] = {}
        self.reading: dict[str, asyncio.TimerHandle] = {}
        self.quiet_until = 0.0  # loop time before which nothing is read in the background
        self.split: dict[str, tuple[str, list[str]]] = {}  # per document: its text, its lines
        self.progress_token: str | None = None
        self.pending_problems: list[str] = []  # settings problems seen before the client can hear
        self.excluded: pathspec.GitIgnoreSpec | None = None  # compiled settings.exclude
        self.loop: asyncio.AbstractEventLoop | None = None

    def close(self) -> None:
        """Stop background work: watching, training, and the model thread."""
        self.learner.stop()
        self.worker.stop()

    # What the models report, from background threads, reaches the client on the event loop.
    def _soon(self, fn, *args) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(fn, *args)

    def message(self, level: str, text: str) -> None:
        kind = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}.get(
            level, types.MessageType.Info
        )
        self._soon(self.window_show_message, types.ShowMessageParams(type=kind, message=text))

    def progress(self, title: str, fraction: float | None, text: str) -> None:
        self._soon(self._progress, title, fraction, text)

    def progress_done(self, text: str) -> None:
        self._soon(self._progress_end, text)

    def model_changed(self) -> None:
        self._soon(self._read_open_documents)  # the cache notices the new model by itself

    def _progress(self, title: str, fraction: float | None, text: str) -> None:
        percentage = None if fraction is None else round(100 * fraction)
        if self.progress_token is None:
            if not self._client_shows_progress():
                return
            token = self.progress_token = str(uuid.uuid4())
            self.work_done_progress.create(token)
            self.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title=title, message=text, percentage=percentage)
            )
        else:
            self.work_done_progress.report(
                self.progress_token,
                types.WorkDoneProgressReport(message=f"{title}: {text}", percentage=percentage),
            )

    def _progress_end(self, text: str) -> None:
        if self.progress_token is not None:
            self.work_done_progress.end(
                self.progress_token, types.WorkDoneProgressEnd(message=text)
            )
            self.progress_token = None

    def _client_shows_progress(self) -> bool:
        window = self.client_capabilities.window
        return bool(window and window.work_done_progress)

    # Documents
    def document(self, uri: str) -> TextDocument | None:
        """The open document, or None. pygls keys documents by the unquoted URI, so a path with
        a space (sent as %20) must be looked up unquoted too."""
        return self.workspace.text_documents.get(unquote(uri))

    def lines(self, doc: TextDocument) -> list[str]:
        """The document's lines, each with its line ending, and an empty last one after a final
        line break. pygls splits the whole text whenever it is asked; a keystroke asks two or
        three times (its change, its request, reading ahead), so the split is kept per text."""
        source = doc.source
        kept = self.split.get(doc.uri)
        if kept is None or kept[0] is not source:
            lines = source.splitlines(keepends=True)
            if not lines or lines[-1].endswith(("\n", "\r")):
                lines.append("")
            kept = self.split[doc.uri] = (source, lines)
        return kept[1]

    def before_change(self, uri: str, change: types.TextDocumentContentChangeEvent) -> None:
        """Drop the states a change is about to make stale; `uri` is open."""
        if not isinstance(change, types.TextDocumentContentChangePartial):
            self.cache.forget(uri)  # the whole text is replaced
            return
        doc = self.workspace.get_text_document(uri)
        lines = self.lines(doc)
        # copies: pygls clamps a position out of range in place, and converts it again to apply it
        start, end = (
            doc.position_codec.position_from_client_units(
                lines, types.Position(line=p.line, character=p.character)
            )
            for p in (change.range.start, change.range.end)
        )
        line, col = min((start.line, start.character), (end.line, end.character))
        if col == 0 and line > 0 and lines[line - 1].endswith("\r"):
            # a "\n" arriving after a lone "\r" joins them into one line break: the line before
            # ends differently, and the lines after start elsewhere
            line, col = line - 1, len(lines[line - 1]) - 1
        self.cache.edited(uri, line, col)

    def root(self) -> Path | None:
        root = self.workspace.root_path
        return Path(root) if root else None

    def key(self, doc: TextDocument) -> str | None:
        """The document's path relative to the workspace: its key in the corpus."""
        root = self.root()
        path = Path(doc.path)
        return path.relative_to(root).as_posix() if root and root in path.parents else None

    def wanted(self, doc: TextDocument) -> bool:
        """Only Python documents outside the excluded patterns get suggestions."""
        if doc.language_id not in (None, "python") and not doc.uri.endswith((".py", ".pyi")):
            return False
        if self.excluded is None:
            return True
        return not self.excluded.match_file(self.key(doc) or Path(doc.path).name)

    def configure(self, raw: Any) -> list[str]:
        """Take settings from the client; the problems with them, one line each."""
        self.settings, problems = settings_module.parse(raw, self.settings)
        patterns = self.settings.exclude
        self.excluded = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
        return problems

    def request(self, uri: str, position: types.Position, kind: str) -> Request | None:
        doc = self.document(uri)
        if doc is None or not self.wanted(doc):
            return None
        lines = self.lines(doc)
        if position.line >= len(lines):
            return None
        at = doc.position_codec.position_from_client_units(lines, position)
        at_col = min(at.character, len(lines[at.line].rstrip("\r\n")))  # past the end: the end
        key = (uri, kind)
        request_id = self.newest.get(key, 0) + 1
        self.newest[key] = request_id

        def cancelled() -> bool:
            return self.newest.get(key) != request_id

        epoch = self.cache.epoch(uri)  # with the text, on the loop that applies edits
        self.postpone_reading()
        return Request(uri, lines, at.line, at_col, self.settings, cancelled, self.key(doc), epoch)

    async def run(self, fn, *args) -> Any:
        """Run model work on the worker; a cancelled or superseded request gives None."""
        future = self.worker.submit(lambda: fn(*args))
        try:
            return await asyncio.wrap_future(future)
        except Cancelled:
            return None
        except asyncio.CancelledError:
            future.cancel()
            raise

    def postpone_reading(self) -> None:
        """The user is typing or asking: background reading waits until it has been quiet."""
        if self.loop is not None:
            self.quiet_until = self.loop.time() + READ_DELAY

    def schedule_read(self, uri: str) -> None:
        """Read a document ahead in the background, so a request anywhere in it is fast: now,
        or once it has been quiet for READ_DELAY."""
        if self.loop is None:
            return
        if uri in self.reading:
            self.reading.pop(uri).cancel()
        delay = max(0.0, self.quiet_until - self.loop.time())
        self.reading[uri] = self.loop.call_later(delay, self._read_slice, uri)

    def _read_slice(self, uri: str) -> None:
        self.reading.pop(uri, None)
        if self.loop is not None and self.loop.time() < self.quiet_until:
            self.schedule_read(uri)  # an edit or a request came since this was scheduled
            return
        doc = self.document(uri)
        predictor = self.models.predictor
        if doc is None or predictor is None or not self.wanted(doc):
            return
        lines = self.lines(doc)
        epoch = self.cache.epoch(uri)
        future = self.worker.submit(
            lambda: self.engine.read_ahead(
                predictor, uri, lines, epoch, self.worker.urgent_waiting
            ),
            BACKGROUND,
        )

        def next_slice(f) -> None:
            if not f.cancelled() and f.exception() is None and f.result() is not None:
                self._soon(self.schedule_read, uri)

        future.add_done_callback(next_slice)

    def touched(self, uri: str) -> None:
        """The editor says a file was saved, created or deleted."""
        path = uris.to_fs_path(uri)
        if path and path.endswith(".py"):
            self.learner.touched()

    def _read_open_documents(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule_read(uri)


def build(
    model: Path | None = None,
    cold_start_minutes: float = 3.0,
    use_cache: bool = True,
    **kwargs: Any,
) -> Server:
    server = Server(model, cold_start_minutes, use_cache, **kwargs)

    @server.feature(types.INITIALIZE)
    def initialize(ls: Server, params: types.InitializeParams) -> None:
        ls.pending_problems = ls.configure(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: Server, _params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        for problem in ls.pending_problems:
            ls.message("warning", problem)
        ls.learner.configure(ls.root(), ls.settings)
        ls.models.configure(ls.root(), ls.settings)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: Server, params: types.DidChangeConfigurationParams) -> None:
        for problem in ls.configure(params.settings):
            ls.message("warning", problem)
        ls.learner.configure(ls.root(), ls.settings)
        ls.models.configure(ls.root(), ls.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Server, params: types.DidSaveTextDocumentParams) -> None:
        ls.touched(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: Server, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            ls.touched(change.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Server, params: types.DidOpenTextDocumentParams) -> None:
        ls.cache.forget(params.text_document.uri)  # opened again: the text may be another
        ls.schedule_read(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Server, params: types.DidChangeTextDocumentParams) -> None:
        ls.postpone_reading()
        ls.schedule_read(params.text_document.uri)  # the cache learnt of it in Protocol

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Server, params: types.DidCloseTextDocumentParams) -> None:
        ls.cache.forget(params.text_document.uri)
        ls.split.pop(params.text_document.uri, None)
        for kind in ("inline", "list"):
            ls.newest.pop((params.text_document.uri, kind), None)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: Server, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        predictor = ls.models.predictor
        if not ls.settings.inlineEnabled or predictor is None:
            return None
        req = ls.request(params.text_document.uri, params.position, "inline")
        if req is None:
            return None
        text = await ls.run(ls.engine.inline, predictor, req)
        if not text:
            return types.InlineCompletionList(items=[])
        here = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=here)]
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS)
    )
    async def completion(ls: Server, params: types.CompletionParams) -> types.CompletionList | None:
        predictor = ls.models.predictor
        if not ls.settings.listEnabled or predictor is None:
            return None
        req = ls.request(params.text_document.uri, params.position, "list")
        if req is None:
            return None
        found = await ls.run(ls.engine.alternatives, predictor, req)
        if found is None:
            return None
        typed = req.word
        codec = ls.workspace.get_text_document(req.uri).position_codec
        start = codec.position_to_client_units(
            req.lines, types.Position(line=req.line, character=req.col - len(typed))
        )
        items = [
            types.CompletionItem(
                label=(typed + s.text).split("\n", 1)[0],
                kind=types.CompletionItemKind.Text,
                detail=f"{s.probability:.1%} likely",
                sort_text=f"{rank:03d}",
                filter_text=typed + s.text,
                text_edit=types.TextEdit(
                    range=types.Range(start=start, end=params.position), new_text=typed + s.text
                ),
            )
            for rank, s in enumerate(found)
        ]
        return types.CompletionList(is_incomplete=True, items=items)

    @server.command("lstm-complete.status")
    def status(ls: Server, *_args) -> dict[str, Any]:
        found = {**ls.models.status(), **ls.learner.status()}
        if found["training"] and found["state"] == "ready":
            found["state"] = "training"
        return found

    @server.command("lstm-complete.retrain")
    def retrain(ls: Server, *_args) -> dict[str, Any]:
        problem = ls.learner.start_full()
        if problem:
            ls.message("warning", f"lstm-complete: cannot retrain: {problem}")
        return {"started": problem is None, "message": problem}

    @server.command("lstm-complete.pause")
    def pause(ls: Server, *_args) -> dict[str, Any]:
        ls.learner.pause()
        return {"learning": ls.learner.learning}

    @server.command("lstm-complete.resume")
    def resume(ls: Server, *_args) -> dict[str, Any]:
        ls.learner.resume()
        return {"learning": ls.learner.learning}

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: Server, *_args) -> None:
        ls.close()

    return server
