"""`python -m policywatch ARGS` in a process of its own, without paying for the start-up each time.

A crawl needs a process of its own (Scrapy's Twisted reactor starts once per process), but most
of such a child's time is spent importing Scrapy, SQLAlchemy, Alembic and the project. The fork
server imports them once and forks one child per run: the child is a new process with its own
pid, environment, working folder and standard streams (files the caller reads afterwards), runs
`policywatch/__main__.py` as `python -m policywatch` does, and exits as the interpreter would
(non-daemon threads joined, exit handlers run, streams flushed). No reactor is installed before
the fork, so each child starts the reactor of its own crawl.

Run as `python -m tests.cli_forkserver`: one JSON request a line on stdin, and for each the
child's pid, then its exit code, as JSON lines on stdout.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import runpy
import sys
import threading
import time
import traceback

from policywatch import forking

# What a crawl imports (as the product's own fork server preloads it), and what the other commands
# the tests run import, so that a child finds it imported. Importing these installs no reactor.
PRELOAD = (
    *forking.PRELOAD,
    "storage.queries",
    "alembic.command",
    "alembic.runtime.migration",
    "scrapy.downloadermiddlewares.httpcache",
    "scrapy.extensions.telnet",
    "scrapy.pipelines",
)


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # a module this version of a dependency does not have
            pass
    assert "twisted.internet.reactor" not in sys.modules, "a preloaded module installed a reactor"


def run_child(request: dict) -> int:
    """In the forked child: take the request's streams, environment and folder, and run
    `python -m policywatch ARGV` to its end; the exit code."""
    os.setpgid(0, 0)  # as its own group, so that the caller can stop it and its helpers at once
    for fd, path, mode in ((0, request["stdin"], os.O_RDONLY),
                           (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                           (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(path, mode, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    os.environ.clear()  # the same mapping object: code that bound os.environ sees the new one
    os.environ.update(request["env"])
    time.tzset()  # a TZ of the request's environment, as a new interpreter would read it
    os.chdir(request["cwd"])
    sys.argv = [request["argv"][0], *request["argv"][1:]]
    code = 0
    try:
        runpy.run_module("policywatch", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_code(exit_.code)
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    return code


def exit_code(code: object) -> int:
    """The process exit code of `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def serve() -> None:
    """Answer requests from stdin until it closes; this process's own streams are moved aside so
    that a child starts with nothing buffered of them."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    preload()
    replies.write(json.dumps({"ready": os.getpid()}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                requests.close()
                replies.close()
                code = run_child(request)
            finally:
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
