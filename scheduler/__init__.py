"""Time-driven work: APScheduler jobs, each a one-line call into a core service."""

from scheduler.runner import JOBS, create_scheduler, finish_running_jobs, run_job_once, running_scheduler

__all__ = ["JOBS", "create_scheduler", "finish_running_jobs", "run_job_once", "running_scheduler"]
