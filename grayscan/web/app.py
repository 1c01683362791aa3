"""The review web app: queue, item, bulk review, reports, account lists and a dashboard.

Every page is a thin view over ``takedown.*`` (the same functions the CLI uses). Post text is
hostile: templates autoescape everything, nothing from a post becomes a link, an attribute name or
script, and evidence files are served only by their ``evidence`` row, images by magic bytes.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlite_utils
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crawler.evidence import sha256_file
from takedown import dashboard
from takedown import queue as q
from takedown.accounts import FORMATS, TLP, export_list
from takedown.report import DRAFT_STATUSES, ReportError, image_type, marked_parts, write_report
from takedown.store import MAX_TEXT_CHARS, open_db

from .charts import stacked_bars
from .security import COOKIE, Auth, Guard, Sessions

PAGE_SIZE = 50
#: Largest evidence file served (a full-page screenshot of a long post can be big, but not this big).
MAX_EVIDENCE_BYTES = 50_000_000
MAX_NOTE_CHARS = 500
FILTER_FIELDS = ("status", "platform", "tier", "term", "account", "cluster", "since", "until", "batch")
REPORT_FORMATS = {"html": "text/html", "csv": "text/csv", "json": "application/json", "pdf": "application/pdf"}
#: A downloaded report opened in the browser may show its inline style and data: images, nothing else.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
EVIDENCE_CSP = "default-src 'none'; sandbox"

_env = Environment(loader=PackageLoader("grayscan.web", "templates"), autoescape=True)


class Databases:
    """One connection per thread to the database file (SQLite connections stay in their thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.path, create=False)  # a database moved away is an error, not a new one
        return db


class BadRequest(ValueError):
    """A query or form the app cannot use; shown to the reviewer with status 400."""


def _text(value: str | None, limit: int = 200) -> str | None:
    value = (value or "").strip()[:limit]
    return value or None


def filters_from(params: Any) -> q.Filters:
    """Queue filters from query or form parameters (empty ones ignored; dates and ages read like the
    CLI's --since/--until, a bad one refused with the forms it may take)."""
    values = {name: _text(params.get(name)) for name in FILTER_FIELDS}
    for name in ("since", "until"):
        if values[name]:
            try:
                values[name] = q.parse_when(values[name])
            except ValueError as exc:
                raise BadRequest(f"{name}: {exc}") from None
    if values["status"] and values["status"] not in q.STATUSES:
        raise BadRequest(f"unknown status {values['status']!r}; statuses are: {', '.join(q.STATUSES)}")
    batch = values.pop("batch")
    return q.Filters(**values, batch_id=batch)


def filter_query(filters: q.Filters, **extra: Any) -> str:
    """The query string of ``filters`` (and ``extra``), for links that keep them."""
    pairs = {name: getattr(filters, "batch_id" if name == "batch" else name) for name in FILTER_FIELDS}
    return urlencode({k: v for k, v in {**pairs, **extra}.items() if v not in (None, "")})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise BadRequest(f"not a number: {value!r}") from None


_LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def _local_path(value: str | None, default: str) -> str:
    """A redirect target that stays on this site: one leading slash, printable ASCII only (browsers drop
    tabs and newlines, so ``/\t/evil.example`` would become ``//evil.example``)."""
    return value if value and _LOCAL_PATH.fullmatch(value) and "\\" not in value else default


def create_app(db_path: str | Path, *, user: str, password: str | None = None, loopback_only: bool = True,
               reports_dir: str | Path | None = None) -> Starlette:
    """The ASGI app over the grayscan database ``db_path``; see ``grayscan serve``."""
    dbs = Databases(db_path)
    sessions = Sessions()
    auth = Auth(user, password, loopback_only)
    reports_dir = Path(reports_dir) if reports_dir else Path(db_path).resolve().parent / "reports"

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = request.state.session
        html = _env.get_template(name).render(csrf=session.csrf, user=session.user, path=request.url.path,
                                              login_required=password is not None, **context)
        return HTMLResponse(html, status)

    def wants_json(request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "")

    def failure(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status)
        return render(request, "error.html", status, message=message)

    # ---- queue --------------------------------------------------------------------------------

    def home(request: Request) -> Response:
        return RedirectResponse("/queue?status=detected", 303)

    def queue_page(request: Request) -> Response:
        try:
            filters = filters_from(request.query_params)
            before, after = _int(request.query_params.get("before")), _int(request.query_params.get("after"))
        except BadRequest as exc:
            return failure(request, 400, str(exc))
        db = dbs.get()
        rows = q.select(db, filters, limit=PAGE_SIZE + 1, before=before, after=after if before is None else None)
        if after is not None and before is None:
            has_newer, has_older = len(rows) > PAGE_SIZE, True
            rows = rows[-PAGE_SIZE:]
        else:
            has_newer, has_older = before is not None, len(rows) > PAGE_SIZE
            rows = rows[:PAGE_SIZE]
        has_older = has_older and bool(rows)
        for row in rows:
            row["excerpt"] = " ".join(f"{row['title'] or ''} {row['text'] or ''}"[:200].split())
        return render(request, "queue.html", rows=rows, filters=filters, statuses=q.STATUSES,
                      when_forms=q.WHEN_FORMS, platforms=_platforms(db), counts=q.counts(db), terms=q.known_terms(db),
                      newer=filter_query(filters, after=rows[0]["id"]) if has_newer and rows else None,
                      older=filter_query(filters, before=rows[-1]["id"]) if has_older else None,
                      here=request.url.path + ("?" + request.url.query if request.url.query else ""))

    def _platforms(db: sqlite_utils.Database) -> list[str]:
        return [r[0] for r in db.execute("SELECT DISTINCT platform FROM queue ORDER BY 1").fetchall()]

    async def review(request: Request) -> Response:
        form = await request.form()
        decision = form.get("decision")
        if decision not in q.REVIEW_FROM:
            return failure(request, 400, f"decision must be one of {', '.join(q.REVIEW_FROM)}")
        item_id = request.path_params["item_id"]
        note = _text(form.get("note"), MAX_NOTE_CHARS)
        actor = request.state.session.user
        try:
            await run_in_threadpool(lambda: q.transition(dbs.get(), item_id, decision, actor=actor, note=note))
        except q.TransitionError as exc:
            return failure(request, 409, str(exc))
        return moved(request, item_id, decision, form)

    async def undo(request: Request) -> Response:
        form = await request.form()
        item_id = request.path_params["item_id"]
        try:
            status = await run_in_threadpool(lambda: q.undo(dbs.get(), item_id, actor=request.state.session.user))
        except q.TransitionError as exc:
            return failure(request, 409, str(exc))
        return moved(request, item_id, status, form)

    def moved(request: Request, item_id: int, status: str, form: Any) -> Response:
        if wants_json(request):
            return JSONResponse({"id": item_id, "status": status})
        return RedirectResponse(_local_path(form.get("next"), f"/items/{item_id}"), 303)

    def bulk_confirm(request: Request) -> Response:
        decision = request.query_params.get("decision")
        if decision not in q.REVIEW_FROM:
            return failure(request, 400, f"decision must be one of {', '.join(q.REVIEW_FROM)}")
        try:
            scoped = q.bulk_filters(filters_from(request.query_params), q.REVIEW_FROM[decision])
        except (BadRequest, ValueError) as exc:
            return failure(request, 400, str(exc))
        return render(request, "bulk.html", decision=decision, filters=scoped, fields=FILTER_FIELDS,
                      count=q.count(dbs.get(), scoped), back=f"/queue?{filter_query(scoped)}")

    async def bulk_apply(request: Request) -> Response:
        form = await request.form()
        decision = form.get("decision")
        if decision not in q.REVIEW_FROM:
            return failure(request, 400, f"decision must be one of {', '.join(q.REVIEW_FROM)}")
        try:
            scoped = q.bulk_filters(filters_from(form), q.REVIEW_FROM[decision])
        except (BadRequest, ValueError) as exc:
            return failure(request, 400, str(exc))
        actor, note = request.state.session.user, _text(form.get("note"), MAX_NOTE_CHARS)

        def apply() -> tuple[int, list[str]]:
            db = dbs.get()
            with db.atomic():
                return q.review_many(db, q.matching_ids(db, scoped), decision, actor=actor, note=note)

        done, refused = await run_in_threadpool(apply)
        return render(request, "bulk_done.html", decision=decision, done=done, refused=refused,
                      back=f"/queue?{filter_query(scoped, status=decision)}")

    # ---- item ---------------------------------------------------------------------------------

    def item_page(request: Request) -> Response:
        db = dbs.get()
        item_id = request.path_params["item_id"]
        row = q.item(db, item_id)
        if row is None:
            return failure(request, 404, f"no queue item {item_id}")
        matches = q.as_json_list(row["matches"])
        contacts = q.contacts(db, row["platform"], row["post_id"])
        spans = [(m.get("start"), m.get("end"), "term") for m in matches]
        spans += [(c["start"], c["end"], "contact") for c in contacts]
        cluster, mates = (q.cluster_of(db, row["platform"], row["author_id"]) if row["author_id"] else (None, []))
        others = [o for o in q.account_items(db, row["platform"], row["author_id"])
                  if o["id"] != row["id"]] if row["author_id"] else []
        return render(request, "item.html", row=row, parts=marked_parts((row["text"] or "")[:MAX_TEXT_CHARS], spans),
                      reasons=q.as_json_list(row["reasons"]),
                      terms=list(dict.fromkeys(m["term"] for m in matches if m.get("term"))),
                      contacts=contacts, evidence=q.evidence(db, row["platform"], row["post_id"]),
                      history=q.history(db, item_id), rechecks=q.rechecks(db, item_id),
                      others=others, cluster=cluster, mates=mates,
                      can=q.TRANSITIONS[row["status"]])

    def evidence_file(request: Request) -> Response:
        row = dbs.get().execute("SELECT kind, path, sha256 FROM evidence WHERE id = ?",
                                [request.path_params["evidence_id"]]).fetchone()
        path = Path(row[1]) if row and row[1] else None
        if path is not None and not path.is_absolute() and not path.is_file():
            path = Path(db_path).resolve().parent / path  # captured with a relative --evidence DIR
        if path is None or not path.is_file():
            return failure(request, 404, "no such evidence file")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            return failure(request, 413, "evidence file too large to serve; open it from the evidence store")
        if row[2] and sha256_file(path) != row[2]:
            return failure(request, 409, f"evidence file {path.name} changed since it was captured "
                                         f"(its SHA-256 is not the recorded {row[2]})")
        with open(path, "rb") as f:
            mime = image_type(f.read(16)) if row[0] == "screenshot" else None
        headers = {"Content-Security-Policy": EVIDENCE_CSP, "Cache-Control": "private, max-age=3600"}
        if mime:
            return FileResponse(path, media_type=mime, headers=headers, content_disposition_type="inline",
                                filename=path.name)
        # Captured HTML and anything else is hostile: only ever a download, never rendered here.
        return FileResponse(path, media_type="application/octet-stream", headers=headers, filename=path.name)

    # ---- reports, account lists, dashboard ----------------------------------------------------

    def reports_page(request: Request) -> Response:
        db = dbs.get()
        batches = list(db.query("SELECT * FROM report_batches ORDER BY created_at DESC, batch_id DESC LIMIT 200"))
        ready = db.execute("SELECT platform, count(*) FROM queue WHERE status = 'accepted' GROUP BY 1 ORDER BY 1")
        return render(request, "reports.html", batches=batches, ready=ready.fetchall(), platforms=_platforms(db),
                      made=request.query_params.get("made"), empty=request.query_params.get("empty"),
                      formats=FORMATS, tlps=list(TLP), report_formats=REPORT_FORMATS)

    async def create_report(request: Request) -> Response:
        form = await request.form()
        platform, channel = _text(form.get("platform"), 40), _text(form.get("channel"), 200)
        draft = form.get("draft") == "1"
        actor = request.state.session.user

        def write() -> Any:
            if draft:
                return write_report(dbs.get(), reports_dir, platform=platform, statuses=DRAFT_STATUSES,
                                    draft=True, actor=actor)
            return write_report(dbs.get(), reports_dir, platform=platform, channel=channel, actor=actor)

        try:
            batch = await run_in_threadpool(write)
        except ReportError as exc:
            return failure(request, 400, str(exc))
        if not batch.count:
            return RedirectResponse("/reports?" + urlencode({"empty": platform or "all"}), 303)
        return RedirectResponse("/reports?" + urlencode({"made": batch.batch_id}), 303)

    def report_file(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in REPORT_FORMATS:
            return failure(request, 404, "no such report format")
        row = dbs.get().execute(f"SELECT {fmt}_path FROM report_batches WHERE batch_id = ?",
                                [request.path_params["batch_id"]]).fetchone()
        path = Path(row[0]) if row and row[0] else None
        if path is None or not path.is_file():
            return failure(request, 404, "no such report file (moved or deleted?)")
        return FileResponse(path, media_type=REPORT_FORMATS[fmt], filename=path.name,
                            headers={"Content-Security-Policy": REPORT_CSP})

    async def export_accounts(request: Request) -> Response:
        form = await request.form()
        fmt, tlp = form.get("format"), form.get("tlp") or "amber"
        if fmt not in FORMATS or tlp not in TLP:
            return failure(request, 400, f"format must be one of {', '.join(FORMATS)}; tlp one of {', '.join(TLP)}")
        producer = _text(form.get("producer"), 100) or "grayscan"
        text, _ = await run_in_threadpool(lambda: export_list(dbs.get(), fmt, producer=producer, tlp=tlp))
        name = {"csv": "accounts.csv", "json": "accounts.json", "stix": "accounts.stix.json"}[fmt]
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        return Response(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def dashboard_page(request: Request) -> Response:
        try:
            days = min(max(_int(request.query_params.get("days")) or 30, 7), 366)
        except BadRequest as exc:
            return failure(request, 400, str(exc))
        db = dbs.get()
        end = dashboard.last_day(db)
        titles = {"tier": "items queued per day, by tier", "platform": "items queued per day, by platform",
                  "status": "moves per day, by the status reached"}
        charts = [stacked_bars(titles[s], *dashboard.daily(db, s, days, end)) for s in dashboard.SERIES]
        totals = {
            "status": q.counts(db),
            "tier": dict(db.execute("SELECT tier, count(*) FROM queue GROUP BY 1 ORDER BY 1").fetchall()),
            "platform": dict(db.execute("SELECT platform, count(*) FROM queue GROUP BY 1 ORDER BY 2 DESC").fetchall()),
        }
        return render(request, "dashboard.html", charts=charts, totals=totals, days=days, end=end.isoformat())

    # ---- login --------------------------------------------------------------------------------

    def login_page(request: Request) -> Response:
        if password is None:
            return RedirectResponse("/queue?status=detected", 303)
        return render(request, "login.html", default_name=user)

    async def login(request: Request) -> Response:
        form = await request.form()
        name = _text(form.get("name"), 64)
        if password is None:
            return RedirectResponse("/queue?status=detected", 303)
        if not name or not auth.check(str(form.get("password") or "")):
            await asyncio.sleep(0.5)  # slows down guessing
            return render(request, "login.html", 401, default_name=name or user,
                          error="wrong password" if name else "give your name: it is recorded with each decision")
        sessions.drop(request.state.session_key)  # a fresh session (and cookie) after login
        key, _ = sessions.create(name)
        response = RedirectResponse("/queue?status=detected", 303)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict")
        return response

    async def logout(request: Request) -> Response:
        sessions.drop(request.state.session_key)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

    routes = [
        Route("/", home),
        Route("/queue", queue_page),
        Route("/bulk", bulk_confirm),
        Route("/bulk", bulk_apply, methods=["POST"]),
        Route("/items/{item_id:int}", item_page),
        Route("/items/{item_id:int}/review", review, methods=["POST"]),
        Route("/items/{item_id:int}/undo", undo, methods=["POST"]),
        Route("/evidence/{evidence_id:int}", evidence_file),
        Route("/reports", reports_page),
        Route("/reports", create_report, methods=["POST"]),
        Route("/reports/{batch_id}/{fmt}", report_file),
        Route("/accounts/export", export_accounts, methods=["POST"]),
        Route("/dashboard", dashboard_page),
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("grayscan.web", "static")]), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, auth=auth, sessions=sessions)])
