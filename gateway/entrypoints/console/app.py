"""The console's Starlette application: pages, the login, the supervisor's actions.

Every route but ``/login`` and ``/static`` needs a logged-in user: an anonymous request for
a page is sent to the login page, one for a CSV or an action is refused (401). Actions
(release a quarantined file, force a duplicate, resubmit a corrected file) need the
supervisor role (403 otherwise), a confirm page, then a POST carrying the session's CSRF
token (403 without it). Logins (success and failure), views of a file, CSV downloads and
actions go to the audit log with the user's name. Every response leaves through
:class:`~gateway.entrypoints.console.filters.ResponseFilter`, which masks any individual number. A
request whose Host header is not one of ``[console] hosts`` is refused (400) by Starlette's
TrustedHostMiddleware before anything else (:class:`CheckedHost`: DNS rebinding). Every
value a template shows goes through :func:`formats.masking.safe_text` (``finalize``).

One ledger connection is opened per request (the ledger is one connection per thread);
actions run the pipeline in a worker thread with a connection of their own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, Undefined, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from formats.dates import JST
from formats.masking import safe_text
from gateway.entrypoints.console.auth import COOKIE, SessionCookie, load_secret, same_token
from gateway.entrypoints.console.filters import ResponseFilter
from gateway.entrypoints.console.views import (
    ACTIONABLE,
    AUDIT_LIMIT,
    FILE_LIMIT,
    FIRST_DAY,
    LAST_DAY,
    STATE_LABELS,
    audit_entries,
    endpoint_statuses,
    files_on,
    jst_text,
    load_report,
    reprocessed_as,
    safe_report,
    summary,
)
from gateway.reporting.audit import get_logger
from gateway.reporting.reports import STATUS_JA, TEMPLATE_FOLDER, TEMPLATE_HELPERS, render_csv
from gateway.storage.ledger import FileRow, Ledger
from gateway.storage.users import LoginOutcome, Session, User, UserStore, new_token, utc_now
from spool.atomic import fit_name

__all__ = ["ACTIONS", "CheckedHost", "ConsoleApp", "create_app"]

HERE = Path(__file__).resolve().parent
Clock = Callable[[], dt.datetime]

#: The supervisor's actions: the confirm page's title and what the flash says afterwards.
ACTIONS: dict[str, dict[str, str]] = {
    "release": {
        "title": "隔離の解除（再処理）",
        "done": "隔離を解除して再処理しました",
        "explain": "隔離されたファイルをもう一度パイプラインで処理します（gateway reprocess と同じ）。",
    },
    "force": {
        "title": "重複ファイルの強制再処理",
        "done": "重複ファイルを強制的に再処理しました",
        "explain": "同じ内容が処理済みでも、このファイルをもう一度処理し、収納データを再送します（gateway reprocess --force と同じ）。",
    },
    "resubmit": {
        "title": "訂正ファイルの再提出",
        "done": "訂正ファイルを受け付けて処理しました",
        "explain": "訂正したファイルを同じ受付経路で受け付け、通常どおり処理します。元のファイルとの関連は監査ログに残ります。",
    },
}
ACTION_LINK_IDS = {"release": "release-link", "force": "force-link", "resubmit": "resubmit-link"}
UPLOAD_FOLDER = "console-uploads"


@dataclass
class Visit:
    """Who is asking: the session (if any) and its user (if logged in)."""

    session: Session | None = None
    user: User | None = None
    #: a cookie value to set on the response (a new session)
    cookie: str | None = None


def shown(value: Any) -> Any:
    """The templates' ``finalize``: every ``{{ … }}`` value is made safe to show
    (:func:`formats.masking.safe_text`: controls, bidi and other invisible characters as escapes)
    before it is HTML-escaped. Numbers, None and undefined values are left to Jinja; markup
    (``__html__``) is the templates' own output, whose values were finalized already."""
    if value is None or isinstance(value, (bool, int, float, Undefined)) or hasattr(value, "__html__"):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


class CheckedHost:
    """Starlette's TrustedHostMiddleware (no www. redirect), with its refusals audited: a request
    whose Host header names none of ``allowed_hosts`` gets its 400 and a ``console-host-refused``
    audit event (the Host header, the path, the client's address)."""

    PASSED = "gateway.entrypoints.console.host-allowed"

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(self._allowed, allowed_hosts=list(allowed_hosts), www_redirect=False)

    async def _allowed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[self.PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.checked(scope, receive, send)
        if scope["type"] in ("http", "websocket") and not scope.get(self.PASSED):
            client = scope.get("client")
            get_logger(user=None).warning(
                "console-host-refused",
                host=(Headers(scope=scope).get("host") or "")[:200],
                path=str(scope.get("path", ""))[:200],
                client=client[0] if client else None,
            )


class ConsoleApp:
    """The console's state: settings, secret, clock, templates; one instance per application."""

    def __init__(self, settings: Any, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.config = settings.console
        self.clock: Clock = clock or utc_now
        self.ledger_path: Path = settings.ledger_path()
        self.secret = load_secret(self.ledger_path.parent)
        self.cookies = SessionCookie(self.secret, secure=self.config.secure_cookies)
        # the console's pages, and the report's parts (gateway/reporting/templates/report_parts.html)
        # that file.html shares with the report page
        self.templates = Environment(
            loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), FileSystemLoader(TEMPLATE_FOLDER)]),
            finalize=shown,
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.templates.globals.update(TEMPLATE_HELPERS)
        self.templates.globals.update(
            state_label=lambda s: STATE_LABELS.get(s or "", s or ""),
            status_label=lambda s: STATUS_JA.get(s or "", s or ""),
            jst=jst_text,
        )
        self.action_lock = threading.Lock()
        with self.open() as (_, store):  # create the tables and the secret at start, not on the first request
            del store

    # -- plumbing -------------------------------------------------------------------------------
    @contextmanager
    def open(self) -> Iterator[tuple[Ledger, UserStore]]:
        with Ledger(self.ledger_path) as ledger:
            yield ledger, UserStore(ledger, clock=self.clock)

    def visit(self, request: Request, store: UserStore) -> Visit:
        token = self.cookies.load(request.cookies.get(COOKIE))
        if token is None:
            return Visit()
        session = store.session(self.secret, token, minutes=self.config.session_minutes)
        if session is None:
            return Visit()
        user = store.get(session.username) if session.username else None
        if session.username and (user is None or user.disabled):
            store.close_session(session.token_hmac)
            return Visit()
        return Visit(session, user)

    def anonymous_session(self, store: UserStore, visit: Visit) -> Visit:
        """The visit's pre-login session, opened when there is none (it carries the login's CSRF token)."""
        if visit.session is not None and visit.session.username is None:
            return visit
        token, session = store.open_session(self.secret, username=None, minutes=self.config.session_minutes)
        return Visit(session, None, self.cookies.dump(token))

    def log(self, visit: Visit | None = None, **bound: Any) -> Any:
        user = visit.user.name if visit and visit.user else bound.pop("user", None)
        return get_logger(user=user, **bound)

    def render(
        self, name: str, visit: Visit, store: UserStore | None, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        flash = None
        if visit.session is not None and visit.session.flash and store is not None:
            flash = visit.session.flash
            store.set_flash(visit.session.token_hmac, None)
        kind, _, message = (flash or "").partition(":")
        html = self.templates.get_template(name).render(
            user=visit.user,
            csrf_token=visit.session.csrf_token if visit.session else "",
            flash=message or None,
            flash_kind=kind,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if visit.cookie:
            response.set_cookie(COOKIE, visit.cookie, **self.cookies.attributes())
        return response

    def refusal(self, visit: Visit, store: UserStore | None, status: int, message: str) -> HTMLResponse:
        titles = {
            401: "ログインが必要です",
            403: "この操作は許可されていません",
            404: "見つかりません",
            409: "この操作はできません",
            400: "入力に誤りがあります",
        }
        return self.render(
            "error.html", visit, store, status=status, title=titles.get(status, "エラー"), message=message
        )

    # -- guards -------------------------------------------------------------------------------
    def guarded(
        self, handler: Callable[..., Awaitable[Response]], *, kind: str = "page", supervisor: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: a user must be logged in (and a supervisor when asked); a POST must
        carry the session's CSRF token. The handler gets (request, visit, ledger, store[, form])."""

        async def endpoint(request: Request) -> Response:
            with self.open() as (ledger, store):
                visit = self.visit(request, store)
                if visit.user is None:
                    if request.method == "GET" and kind == "page":
                        return RedirectResponse("/login", status_code=303)
                    return self.refusal(Visit(), None, 401, "ログインしてください。")
                if supervisor and not visit.user.is_supervisor:
                    self.log(visit, path=request.url.path).warning("console-forbidden", method=request.method)
                    return self.refusal(visit, store, 403, "この操作は監督者（supervisor）だけが行えます。")
                if request.method == "POST":
                    form = await request.form(max_files=1, max_fields=20)
                    if not same_token(visit.session.csrf_token if visit.session else None, form.get("csrf_token")):
                        await form.close()
                        self.log(visit, path=request.url.path).warning("console-csrf-refused")
                        return self.refusal(
                            visit, store, 403, "画面の有効期限が切れたか、不正な要求です。画面を開き直してください。"
                        )
                    try:
                        return await handler(request, visit, ledger, store, form)
                    finally:
                        await form.close()
                return await handler(request, visit, ledger, store)

        return endpoint

    # -- login and logout -----------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        with self.open() as (_, store):
            visit = self.visit(request, store)
            if visit.user is not None:
                return RedirectResponse("/", status_code=303)
            return self.render("login.html", self.anonymous_session(store, visit), store, username="")

    async def login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        username = str(form.get("username") or "").strip()[:64]
        password = str(form.get("password") or "")
        with self.open() as (_, store):
            visit = self.visit(request, store)
            if visit.session is None or not same_token(visit.session.csrf_token, form.get("csrf_token")):
                self.log(user=username or None).warning("console-login-failed", reason="csrf")
                fresh = self.anonymous_session(store, Visit())
                return self.render(
                    "login.html",
                    fresh,
                    store,
                    status=403,
                    username=username,
                    error="画面の有効期限が切れました。もう一度入力してください。",
                )
        result = await run_in_threadpool(self._authenticate, username, password)
        with self.open() as (_, store):
            visit = self.visit(request, store)
            if result.outcome is LoginOutcome.OK and result.user is not None:
                if visit.session is not None:
                    store.close_session(visit.session.token_hmac)
                token, _ = store.open_session(
                    self.secret, username=result.user.name, minutes=self.config.session_minutes
                )
                self.log(user=result.user.name).info("console-login", role=result.user.role)
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(COOKIE, self.cookies.dump(token), **self.cookies.attributes())
                return response
            locked = result.outcome is LoginOutcome.LOCKED or result.locked_now
            self.log(user=username or None).warning(
                "console-login-failed",
                reason=str(result.outcome),
                locked=locked,
                failures=result.user.failed_logins if result.user and not locked else None,
            )
            if locked:
                error = (
                    f"このアカウントはロックされています（パスワードの誤りが続いたため）。"
                    f"{self.config.lockout_minutes}分たってから、もう一度お試しください。"
                )
            else:
                error = "ユーザー名またはパスワードが違います。"
            visit = self.anonymous_session(store, visit)
            return self.render("login.html", visit, store, status=401, username=username, error=error)

    def _authenticate(self, username: str, password: str) -> Any:
        with self.open() as (_, store):
            return store.authenticate(
                username, password, attempts=self.config.lockout_attempts, lock_minutes=self.config.lockout_minutes
            )

    async def logout(self, request: Request) -> Response:
        with self.open() as (_, store):
            visit = self.visit(request, store)
            if visit.session is None or visit.user is None:
                return self.refusal(Visit(), None, 401, "ログインしていません。")
            form = await request.form(max_files=0, max_fields=10)
            if not same_token(visit.session.csrf_token, form.get("csrf_token")):
                self.log(visit).warning("console-csrf-refused", path="/logout")
                return self.refusal(
                    visit, store, 403, "画面の有効期限が切れたか、不正な要求です。画面を開き直してください。"
                )
            store.close_session(visit.session.token_hmac)
            if visit.user is not None:
                self.log(visit).info("console-logout")
        response = RedirectResponse("/login", status_code=303)
        attributes = self.cookies.attributes()
        response.delete_cookie(
            COOKIE,
            path=attributes["path"],
            secure=attributes["secure"],
            httponly=attributes["httponly"],
            samesite=attributes["samesite"],
        )
        return response

    # -- pages ----------------------------------------------------------------------------------
    async def files_page(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        query = request.query_params
        today = self.clock().astimezone(JST).date()
        date_text = query.get("date") or today.isoformat()
        error = None
        day: dt.date | None
        if date_text == "all":
            day = None
        else:
            try:
                day = dt.date.fromisoformat(date_text)
            except ValueError:
                error = f"日付 {date_text!r} は YYYY-MM-DD の形で指定してください（今日を表示しています）。"
                day, date_text = today, today.isoformat()
            if not FIRST_DAY <= day <= LAST_DAY:  # the day's window would not fit in a datetime
                error = (
                    f"日付 {date_text!r} は {FIRST_DAY.isoformat()} から {LAST_DAY.isoformat()} までの"
                    "範囲で指定してください（今日を表示しています）。"
                )
                day, date_text = today, today.isoformat()
        channel = query.get("channel") or None
        state = query.get("state") or None
        rows = files_on(ledger, day, channel=channel, state=state)
        states, per_channel = summary(ledger, day, channel=channel, state=state)
        return self.render(
            "files.html",
            visit,
            store,
            nav="files",
            rows=rows,
            states=states,
            per_channel=per_channel,
            date=date_text,
            channel=channel or "",
            state=state or "",
            channels=sorted(self.settings.channels),
            all_states=STATE_LABELS,
            error=error,
            limit=FILE_LIMIT,
        )

    def _row(self, ledger: Ledger, file_id: str) -> FileRow | None:
        return ledger.get(file_id)

    async def file_page(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        file_id = request.path_params["file_id"]
        row = self._row(ledger, file_id)
        if row is None:
            return self.refusal(visit, store, 404, "そのファイルIDは台帳にありません。")
        self.log(visit, file_id=row.id).info("console-file-viewed")
        report = load_report(row)
        later = reprocessed_as(ledger, row.id)
        actions = self._actions(visit, row, later)
        return self.render(
            "file.html",
            visit,
            store,
            nav="files",
            row=row,
            report=report,
            later=later,
            actions=actions,
            link_ids=ACTION_LINK_IDS,
            action_titles={k: v["title"] for k, v in ACTIONS.items()},
        )

    @staticmethod
    def _actions(visit: Visit, row: FileRow, later: list[FileRow]) -> list[str]:
        if visit.user is None or not visit.user.is_supervisor:
            return []
        allowed = list(ACTIONABLE.get(row.state, ()))
        if later:  # already reprocessed: its input has moved on (a resubmission stays possible)
            allowed = [action for action in allowed if action == "resubmit"]
        return allowed

    async def report_csv(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        file_id = request.path_params["file_id"]
        row = self._row(ledger, file_id)
        report = load_report(row) if row else None
        if row is None or report is None:
            return self.refusal(visit, store, 404, "このファイルの報告書はありません。")
        self.log(visit, file_id=row.id).info("console-csv-downloaded")
        return Response(
            "\ufeff" + render_csv(safe_report(report)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{row.id}-report.csv"'},
        )

    async def quarantine_page(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        rows = files_on(ledger, None, state="quarantined") + files_on(ledger, None, state="duplicate")
        rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
        items = []
        for row in rows:
            later = reprocessed_as(ledger, row.id)
            items.append((row, later, self._actions(visit, row, later)))
        return self.render("quarantine.html", visit, store, nav="quarantine", items=items, link_ids=ACTION_LINK_IDS)

    async def endpoints_page(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        statuses, alerts = endpoint_statuses(self.settings, self.clock())
        return self.render("endpoints.html", visit, store, nav="endpoints", endpoints=statuses, alerts=alerts)

    async def audit_page(self, request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
        file_id = (request.query_params.get("file_id") or "").strip()
        entries = audit_entries(self.settings.audit_path(), file_id=file_id or None)
        return self.render("audit.html", visit, store, nav="audit", entries=entries, file_id=file_id, limit=AUDIT_LIMIT)

    # -- actions -----------------------------------------------------------------------------------
    def _action_target(
        self, request: Request, visit: Visit, ledger: Ledger, store: UserStore, action: str
    ) -> FileRow | Response:
        row = self._row(ledger, request.path_params["file_id"])
        if row is None:
            return self.refusal(visit, store, 404, "そのファイルIDは台帳にありません。")
        if action not in self._actions(visit, row, reprocessed_as(ledger, row.id)):
            state = STATE_LABELS.get(row.state, row.state)
            return self.refusal(
                visit, store, 409, f"このファイル（{state}）には「{ACTIONS[action]['title']}」はできません。"
            )
        return row

    def confirm_page(self, action: str) -> Callable[..., Awaitable[Response]]:
        async def page(request: Request, visit: Visit, ledger: Ledger, store: UserStore) -> Response:
            target = self._action_target(request, visit, ledger, store, action)
            if isinstance(target, Response):
                return target
            return self.render(
                "confirm.html", visit, store, nav="files", row=target, action=action, info=ACTIONS[action]
            )

        return page

    def perform(self, action: str) -> Callable[..., Awaitable[Response]]:
        async def post(request: Request, visit: Visit, ledger: Ledger, store: UserStore, form: FormData) -> Response:
            target = self._action_target(request, visit, ledger, store, action)
            if isinstance(target, Response):
                return target
            assert visit.user is not None and visit.session is not None
            upload = form.get("file")
            if action == "resubmit" and (not isinstance(upload, UploadFile) or not upload.filename):
                return self.render(
                    "confirm.html",
                    visit,
                    store,
                    status=400,
                    nav="files",
                    row=target,
                    action=action,
                    info=ACTIONS[action],
                    error="訂正ファイルを選んでください。",
                )
            log = self.log(visit, file_id=target.id)
            log.warning("console-action-requested", action=action)
            try:
                if action == "resubmit":
                    assert isinstance(upload, UploadFile)
                    new_id, state, status = await self._resubmit(target, upload)
                else:
                    new_id, state, status = await run_in_threadpool(self._reprocess, target.id, action == "force")
            except (ValueError, OSError) as error:  # e.g. the input was erased after its retention period
                log.error("console-action-failed", action=action, error=str(error))
                store.set_flash(visit.session.token_hmac, f"error:{ACTIONS[action]['title']}できませんでした: {error}")
                return RedirectResponse(f"/files/{target.id}", status_code=303)
            log.warning(f"console-{action}", new_file_id=new_id, result_state=state, result_status=status)
            if action == "resubmit":
                self.log(visit, file_id=new_id).warning("console-resubmitted", resubmit_of=target.id)
            store.set_flash(
                visit.session.token_hmac,
                f"ok:{ACTIONS[action]['done']}（元のファイル {target.id} → 新しいファイル {new_id}: "
                f"{STATE_LABELS.get(state, state)}）",
            )
            return RedirectResponse(f"/files/{new_id}", status_code=303)

        return post

    def _reprocess(self, file_id: str, force: bool) -> tuple[str, str, str]:
        """Put a quarantined or duplicate file through the pipeline again, as `gateway reprocess` does."""
        from gateway.datapath.pipeline import Pipeline

        with self.action_lock, Ledger(self.ledger_path) as ledger:
            row = ledger.get(file_id)
            if row is None:
                raise ValueError(f"no file {file_id}")
            if reprocessed_as(ledger, file_id):  # (release and force only: quarantined or duplicate files)
                raise ValueError(f"file {file_id} was already reprocessed")
            pipeline = Pipeline(self.settings, ledger)
            pipeline.spool.ensure()
            new_id = pipeline.reprocess(row, force=force)
            outcome = pipeline.process(new_id)
        return outcome.file_id, outcome.state, outcome.status

    async def _resubmit(self, row: FileRow, upload: UploadFile) -> tuple[str, str, str]:
        """The corrected file enters the pipeline on the original's channel, as `gateway ingest` does
        (staged in a private folder first, so that a running `gateway run` cannot take it meanwhile)."""
        name = fit_name(Path(upload.filename or "").name.lstrip(".")) or "resubmitted.dat"
        uploads = self.settings.spool.root / UPLOAD_FOLDER
        uploads.mkdir(mode=0o700, exist_ok=True)
        folder = uploads / new_token()
        folder.mkdir(mode=0o700)
        try:
            path = folder / name
            with path.open("xb") as out:
                path.chmod(0o600)
                while chunk := await upload.read(1 << 20):
                    out.write(chunk)
            return await run_in_threadpool(self._ingest, row, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _ingest(self, original: FileRow, path: Path) -> tuple[str, str, str]:
        from gateway.datapath.pipeline import Pipeline
        from spool.scanner import Arrival

        with self.action_lock, Ledger(self.ledger_path) as ledger:
            pipeline = Pipeline(self.settings, ledger)
            pipeline.spool.ensure()
            stat = path.stat()
            file_id = pipeline.claim(
                Arrival(original.channel, path, stat.st_size, stat.st_mtime_ns), reprocess_of=original.id
            )
            if file_id is None:
                raise FileExistsError("the uploaded file was taken by another process")
            outcome = pipeline.process(file_id)
        return outcome.file_id, outcome.state, outcome.status


def create_app(
    settings: Any, *, clock: Clock | None = None, configure_audit: bool = True, listen: str | None = None
) -> Starlette:
    """The console for one configuration. ``clock`` (UTC-aware datetimes) is for tests.

    With ``configure_audit`` the audit log of the configuration receives the console's events.
    ``listen`` is the address served when it is not ``[console] host`` (`gateway console --host`):
    the Host header names allowed by default follow it."""
    if configure_audit:
        from gateway.reporting import audit

        audit.configure(settings.audit_path(), console=False)
    console = ConsoleApp(settings, clock=clock)
    g = console.guarded
    routes: list[BaseRoute] = [
        Route("/login", console.login_page, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/", g(console.files_page), methods=["GET"]),
        Route("/quarantine", g(console.quarantine_page), methods=["GET"]),
        Route("/endpoints", g(console.endpoints_page), methods=["GET"]),
        Route("/audit", g(console.audit_page), methods=["GET"]),
        Route("/files/{file_id}", g(console.file_page), methods=["GET"]),
        Route("/files/{file_id}/report.csv", g(console.report_csv, kind="data"), methods=["GET"]),
    ]
    for action in ACTIONS:
        routes.append(
            Route(f"/files/{{file_id}}/{action}", g(console.confirm_page(action), supervisor=True), methods=["GET"])
        )
        routes.append(
            Route(
                f"/files/{{file_id}}/{action}",
                g(console.perform(action), kind="action", supervisor=True),
                methods=["POST"],
            )
        )
    routes.append(Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]))
    routes.append(Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ResponseFilter),
            Middleware(CheckedHost, allowed_hosts=console.config.allowed_hosts(listen)),
        ],
    )
    app.state.console = console
    return app
