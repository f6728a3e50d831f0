"""Importing products from CSV/Excel with progress and a per-row report; exporting them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, unquote

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.security import session_for
from commerce import clock
from commerce.catalog import import_jobs
from commerce.catalog.catalog_file import COLUMN_NOTES, COLUMNS, REQUIRED_COLUMNS
from commerce.catalog.export import (
    TEMPLATE_ROWS,
    XLSX_TYPE,
    CatalogExport,
    ExportFilter,
    template_csv,
    workbook_bytes,
)
from commerce.catalog.import_jobs import ImportJobError, JobStatus
from commerce.errors import CommerceError
from commerce.staff.permissions import Permission, require

JOB = "{job_id:[A-Za-z0-9_-]{20,40}}"
SHOWN_PROBLEMS = 500  # on the page; the CSV report has them all
STATUS_TEXT = {
    JobStatus.RUNNING: "导入中",
    JobStatus.DONE: "已完成",
    JobStatus.FAILED: "失败",
    JobStatus.INTERRUPTED: "已中断",
}
CSV_TYPE = "text/csv; charset=utf-8"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/products/import", import_page)
    router.add_post("/products/import", upload)
    router.add_get("/products/import/template.csv", template_as_csv)
    router.add_get("/products/import/template.xlsx", template_as_xlsx)
    router.add_get(f"/products/import/{JOB}", job_page)
    router.add_get(f"/products/import/{JOB}.json", job_json)
    router.add_get(f"/products/import/{JOB}/errors.csv", job_errors_csv)
    router.add_get("/products/export", export)


async def import_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.PRODUCTS)
    return _render_import(request, error="")


async def upload(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    file = (await request.post()).get("file")  # the session middleware has read the body already
    if not isinstance(file, web.FileField):
        return _render_import(request, error="请选择要导入的 CSV 或 Excel 文件", status=400)
    data = file.file.read(import_jobs.MAX_FILE_BYTES + 1)
    try:
        job_id = await import_jobs.start_import(
            redis_client=request.app[CORE].redis,
            data=data,
            filename=unquote(file.filename or ""),  # some clients send the name percent-encoded
            staff_id=staff.id,
            merchant_id=staff.merchant_id,
            actor=staff.actor,
        )
    except CommerceError as error:
        running = (
            error.details.get("job_id", "") if error.error_code is ImportJobError.ALREADY_RUNNING else ""
        )
        return _render_import(request, error=error.message, running_job=running, status=400)
    raise web.HTTPSeeOther(f"/admin/products/import/{job_id}")


def _render_import(request: web.Request, *, error: str, running_job: str = "", status: int = 200):
    staff = session_for(request).staff
    context = {
        "active": "products",
        "columns": [(name, name in REQUIRED_COLUMNS, COLUMN_NOTES[name]) for name in COLUMNS],
        "max_mb": import_jobs.MAX_FILE_BYTES // (1024 * 1024),
        "for_merchant": staff.merchant_id is not None,
        "error": error,
        "running_job": running_job,
    }
    return aiohttp_jinja2.render_template("product_import.html", request, context, status=status)


async def template_as_csv(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.PRODUCTS)
    return _download(template_csv(), CSV_TYPE, "商品导入模板.csv")


async def template_as_xlsx(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.PRODUCTS)
    return _download(workbook_bytes(TEMPLATE_ROWS), XLSX_TYPE, "商品导入模板.xlsx")


async def job_page(request: web.Request) -> web.Response:
    job = await _job(request)
    problems = []
    if job.status is not JobStatus.RUNNING:
        problems = await import_jobs.job_problems(
            redis_client=request.app[CORE].redis, job_id=job.id, staff_id=job.staff_id
        )
    context = {
        "active": "products",
        "job": job,
        "status_text": STATUS_TEXT[job.status],
        "problems": problems[:SHOWN_PROBLEMS],
        "problem_count": len(problems),
        "started": _shown(job.started_at),
        "finished": _shown(job.finished_at) if job.finished_at else "",
    }
    return aiohttp_jinja2.render_template("product_import_job.html", request, context)


async def job_json(request: web.Request) -> web.Response:
    job = await _job(request)
    return web.json_response({**job.public(), "status_text": STATUS_TEXT[job.status]})


async def job_errors_csv(request: web.Request) -> web.Response:
    job = await _job(request)
    problems = await import_jobs.job_problems(
        redis_client=request.app[CORE].redis, job_id=job.id, staff_id=job.staff_id
    )
    return _download(import_jobs.problems_csv(problems), CSV_TYPE, f"导入错误报告-{job.id[:8]}.csv")


async def _job(request: web.Request) -> import_jobs.ImportJob:
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    return await import_jobs.get_job(
        redis_client=request.app[CORE].redis, job_id=request.match_info["job_id"], staff_id=staff.id
    )


async def export(request: web.Request) -> web.StreamResponse:
    """The filtered products in the importer's format (the products list links here)."""
    staff = session_for(request).staff
    require(staff, Permission.PRODUCTS)
    file_format = "xlsx" if request.query.get("format") == "xlsx" else "csv"
    exporting = CatalogExport(ExportFilter.from_params(request.query, own_merchant_id=staff.merchant_id))
    name = f"商品导出-{clock.to_shanghai(clock.now()):%Y%m%d-%H%M}.{file_format}"
    if file_format == "xlsx":
        body = await exporting.xlsx_bytes()
        await exporting.record(actor=staff.actor, file_format=file_format)
        return _download(body, XLSX_TYPE, name)
    # CSV is streamed batch by batch: a large catalog never sits in memory whole.
    response = web.StreamResponse(headers=_download_headers(CSV_TYPE, name))
    await response.prepare(request)
    async for chunk in exporting.csv_chunks():
        await response.write(chunk)
    await response.write_eof()
    await exporting.record(actor=staff.actor, file_format=file_format)
    return response


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(body=body, headers=_download_headers(content_type, filename))


def _download_headers(content_type: str, filename: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        # RFC 6266: an ASCII fallback name, and the Chinese one for browsers that read filename*.
        "Content-Disposition": f'attachment; filename="products.{filename.rsplit(".", 1)[-1]}"; '
        f"filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def _shown(epoch: float) -> str:
    return clock.to_shanghai(datetime.fromtimestamp(epoch, tz=UTC)).strftime("%Y-%m-%d %H:%M:%S")
