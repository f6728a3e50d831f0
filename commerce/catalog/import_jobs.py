"""Catalog imports started from the admin web.

A job runs as a task in the process that received the file; its progress, result and error
report live in Redis (for a day), so that any process can show them. A job that stops beating
(its process died) is shown as interrupted instead of running forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import re
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import redis.asyncio as redis

from commerce import clock
from commerce.audit import services as audit
from commerce.catalog.catalog_file import (
    CatalogFileError,
    CatalogFileTooLarge,
    guard_cell,
    read_catalog_bytes,
)
from commerce.catalog.importer import ImportReport, RowProblem, import_rows
from commerce.errors import ErrorCode, ErrorKind

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
JOB_TTL_SECONDS = 24 * 3600
HEARTBEAT_SECONDS = 0.5
STALE_AFTER_SECONDS = 30  # a running job silent this long has lost its process
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
_running_tasks: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones


class ImportJobError(ErrorCode):
    FILE_TOO_LARGE = ("import_file_too_large", ErrorKind.INVALID, "文件不能超过 5 MB，请分成几个文件导入")
    BAD_FILE = ("import_bad_file", ErrorKind.INVALID, "文件无法导入")
    ALREADY_RUNNING = ("import_already_running", ErrorKind.CONFLICT, "您有一个导入正在进行，请等它完成再导入")
    JOB_NOT_FOUND = ("import_job_not_found", ErrorKind.NOT_FOUND, "导入任务不存在或已过期")


class JobStatus(StrEnum):
    RUNNING = "running"  # reading the file or importing products
    DONE = "done"  # finished; some rows may have failed
    FAILED = "failed"  # the file could not be read, or the job broke off with an error
    INTERRUPTED = "interrupted"  # its process stopped beating: shown, never stored as such


@dataclass
class ImportJob:
    id: str
    staff_id: int
    filename: str
    status: JobStatus
    started_at: float  # epoch seconds, like the other times here
    heartbeat: float
    finished_at: float = 0.0
    rows_read: int = 0
    products_total: int = 0
    products_done: int = 0
    created: int = 0
    updated: int = 0
    loaded_rows: int = 0
    failed_rows: int = 0
    message: str = ""

    @property
    def percent(self) -> int:
        if self.status is JobStatus.DONE:
            return 100
        return self.products_done * 100 // self.products_total if self.products_total else 0

    def public(self) -> dict[str, Any]:
        """What the job's page and its JSON show (not whose it is)."""
        shown = {k: v for k, v in asdict(self).items() if k != "staff_id"}
        return {**shown, "status": self.status.value, "percent": self.percent}


def _key(job_id: str) -> str:
    return f"catalog:import:{job_id}"


def _problems_key(job_id: str) -> str:
    return f"catalog:import:{job_id}:problems"


def _running_key(staff_id: int) -> str:
    return f"catalog:import:running:{staff_id}"


async def start_import(
    *,
    redis_client: redis.Redis,
    data: bytes,
    filename: str,
    staff_id: int,
    merchant_id: int | None,
    actor: str,
) -> str:
    """Check the file (size, kind, header), then import it in the background; the job's id.

    A merchant's people (merchant_id set) import into their own merchant only.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportJobError.FILE_TOO_LARGE.error()
    try:
        rows = await asyncio.to_thread(read_catalog_bytes, data)  # reads the header: fails fast
    except CatalogFileTooLarge as exc:
        raise ImportJobError.FILE_TOO_LARGE.error(str(exc)) from None
    except CatalogFileError as exc:
        raise ImportJobError.BAD_FILE.error(str(exc)) from None
    job_id = secrets.token_urlsafe(18)
    # One import at a time per person: a double-clicked upload must not run twice at once.
    if not await redis_client.set(_running_key(staff_id), job_id, nx=True, ex=STALE_AFTER_SECONDS):
        raise ImportJobError.ALREADY_RUNNING.error(
            job_id=(await redis_client.get(_running_key(staff_id)) or b"").decode()
        )
    now = clock.now().timestamp()
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:100] or "未命名文件"
    job = ImportJob(job_id, staff_id, name, JobStatus.RUNNING, started_at=now, heartbeat=now)
    await _save(redis_client, job)
    task = asyncio.create_task(_run(redis_client, job, rows, merchant_id=merchant_id, actor=actor))
    _running_tasks.add(task)
    task.add_done_callback(_running_tasks.discard)
    return job_id


async def get_job(*, redis_client: redis.Redis, job_id: str, staff_id: int) -> ImportJob:
    """The job, if it is this staff member's (anyone else's is not found)."""
    raw = await redis_client.get(_key(job_id)) if _JOB_ID.match(job_id or "") else None
    record = json.loads(raw) if raw else None
    if record is None or record["staff_id"] != staff_id:
        raise ImportJobError.JOB_NOT_FOUND.error()
    job = ImportJob(**{**record, "status": JobStatus(record["status"])})
    if job.status is JobStatus.RUNNING and clock.now().timestamp() - job.heartbeat > STALE_AFTER_SECONDS:
        job.status = JobStatus.INTERRUPTED
        job.message = "导入已中断（处理它的进程已停止）：已导入的商品保留，请重新上传文件导入其余部分"
    return job


async def job_problems(*, redis_client: redis.Redis, job_id: str, staff_id: int) -> list[RowProblem]:
    """The job's bad rows (empty until it has finished)."""
    await get_job(redis_client=redis_client, job_id=job_id, staff_id=staff_id)
    raw = await redis_client.get(_problems_key(job_id))
    return [RowProblem(**item) for item in json.loads(raw)] if raw else []


def problems_csv(problems: list[RowProblem]) -> bytes:
    """The error report as a CSV Excel opens correctly (UTF-8 with a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "商品编码", "SKU 编码", "商品标题", "原因"])
    for p in problems:
        writer.writerow([p.row, *(guard_cell(text) for text in (p.spu_code, p.sku_code, p.title, p.reason))])
    return buffer.getvalue().encode("utf-8-sig")


async def cancel_running_imports() -> None:
    """Stop this process's imports (at shutdown): their pages say so once the heartbeat is old."""
    for task in list(_running_tasks):
        task.cancel()
    await asyncio.gather(*_running_tasks, return_exceptions=True)


async def _run(
    redis_client: redis.Redis, job: ImportJob, rows, *, merchant_id: int | None, actor: str
) -> None:
    report = ImportReport()
    finished = asyncio.Event()
    beating = asyncio.create_task(_beat(redis_client, job, report, finished))
    try:
        read = await asyncio.to_thread(_read_all, job, rows)
        job.products_total = len({row.values.get("spu_code") for row in read if row.values.get("spu_code")})
        await import_rows(
            read,
            merchant_id=merchant_id,
            only_own_merchant=merchant_id is not None,
            progress=lambda n: setattr(job, "products_done", job.products_done + n),
            report=report,
        )
        job.status = JobStatus.DONE
        job.message = report.summary()
    except CatalogFileError as exc:  # a row the header check could not see (a damaged sheet)
        job.status, job.message = JobStatus.FAILED, str(exc)
    except asyncio.CancelledError:
        job.status, job.message = JobStatus.FAILED, "导入被中止（服务重启）：已导入的商品保留，请重新导入"
        raise
    except Exception:
        log.exception("catalog import %s failed", job.id)
        job.status, job.message = JobStatus.FAILED, "导入出错而中止：已导入的商品保留，请稍后重新导入"
    finally:
        finished.set()
        await beating
        await _finish(redis_client, job, report, actor)


def _read_all(job: ImportJob, rows) -> list:
    """Every row of the file (in a thread: a large sheet takes seconds), counted as read."""
    read = []
    for row in rows:
        read.append(row)
        job.rows_read += 1
    return read


async def _beat(redis_client: redis.Redis, job: ImportJob, report: ImportReport, finished: asyncio.Event):
    """Write the progress now and then: the heartbeat that tells a live job from a dead one."""
    while not finished.is_set():
        _copy_counts(job, report)
        job.heartbeat = clock.now().timestamp()
        try:
            await _save(redis_client, job)
            await redis_client.set(_running_key(job.staff_id), job.id, ex=STALE_AFTER_SECONDS)
        except Exception:  # Redis away for a moment: the next beat tries again
            log.warning("import %s: could not save progress", job.id, exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), HEARTBEAT_SECONDS)


async def _finish(redis_client: redis.Redis, job: ImportJob, report: ImportReport, actor: str) -> None:
    """Record the result: the error report first, the audit entry, then the job's final state."""
    _copy_counts(job, report)
    job.heartbeat = job.finished_at = clock.now().timestamp()
    try:
        problems = [asdict(problem) for problem in sorted(report.problems, key=lambda p: p.row)]
        await redis_client.set(
            _problems_key(job.id), json.dumps(problems, ensure_ascii=False), ex=JOB_TTL_SECONDS
        )
        await audit.record(
            actor=actor,
            action="product.import",
            object_type="product_import",
            object_id=job.id,
            summary=(
                f"导入「{job.filename}」：新建 {job.created} 个商品，更新 {job.updated} 个，"
                f"成功 {job.loaded_rows} 行，失败 {job.failed_rows} 行"
            ),
            after={
                "filename": job.filename,
                "status": job.status.value,
                "rows_read": job.rows_read,
                "created": job.created,
                "updated": job.updated,
                "loaded_rows": job.loaded_rows,
                "failed_rows": job.failed_rows,
            },
        )
        await _save(redis_client, job)
        await redis_client.delete(_running_key(job.staff_id))
    except Exception:  # shutting down, say: the page will call the job interrupted
        log.exception("import %s: could not record its result", job.id)


def _copy_counts(job: ImportJob, report: ImportReport) -> None:
    job.created = report.created_products
    job.updated = report.updated_products
    job.loaded_rows = report.loaded_rows
    job.failed_rows = len(report.problems)


async def _save(redis_client: redis.Redis, job: ImportJob) -> None:
    record = {**asdict(job), "status": job.status.value}
    await redis_client.set(_key(job.id), json.dumps(record, ensure_ascii=False), ex=JOB_TTL_SECONDS)
